"""Wire formats: what crosses Kafka, AMQP and HTTP. No I/O lives here."""
