"""The actors: Faust agents and the AMQP bridge."""
