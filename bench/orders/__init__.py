"""`python -m bench.orders`: orders per second from POST to RESERVED."""
