"""The local development stack: a single-node Kafka and RabbitMQ on loopback."""
