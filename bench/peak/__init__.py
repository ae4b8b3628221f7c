"""`distgate bench`: every path at peak load at once, against raw baselines, with an oracle."""
