"""The wiring: settings, the Faust app, the HTTP API, the CLI and the local dev stack."""
