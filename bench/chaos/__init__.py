"""Faults injected while the peak load runs (`distgate bench --chaos`), and what they cost."""
