"""`python -m bench.bridge`: the WMS bridge alone, against a bare aio-pika loop."""
