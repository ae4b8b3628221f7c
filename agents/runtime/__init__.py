"""What the actors stand on: the durable Faust transport, direct outputs, metrics, failpoints."""
