"""The peak-load harness and its raw baselines."""
