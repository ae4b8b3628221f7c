"""What a log line is about, carried by the task that writes it (the HTTP request's id)."""

from contextvars import ContextVar

correlation_id: ContextVar[str] = ContextVar("correlation_id", default="")
"""The correlation id of the request or message being handled ("" outside one)."""
