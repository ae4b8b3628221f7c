"""The fault kinds `--chaos` knows, each named for what it does to the running gateway."""

KINDS = (
    "kill-worker",  # kill -9 a worker (or one of its processes) and start it again
    "scale",  # stop all workers but one, then bring them back: rebalances under load
    "pause-worker",  # SIGSTOP a worker past the consumer session timeout, then SIGCONT
    "restart-kafka",  # kill -9 the dev stack's Kafka and start it again
    "restart-rabbitmq",  # kill -9 RabbitMQ and start it again
    "wms-outage",  # one warehouse's WMS stops consuming and answering for a while
    "poison",  # hostile messages on every input, mixed into the load
)
