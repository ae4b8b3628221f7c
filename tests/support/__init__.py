"""Test tooling shared by the suites: brokers and pollers, and table rows in memory."""
