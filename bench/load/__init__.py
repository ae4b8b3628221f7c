"""Load generation and what it measured: HTTP load loops, wrk, open-loop pacing, recorders."""
