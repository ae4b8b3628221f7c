"""The bench's outputs: the terminal table, report.json and the self-contained HTML page."""
