"""State and its rules: table values, pure transitions and decisions, table declarations."""
