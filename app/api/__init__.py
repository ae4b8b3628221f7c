"""The HTTP API: app factory, middlewares, handlers."""
