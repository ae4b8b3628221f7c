"""Simulated peers (a WMS) for the tests, the demo and the bench."""
