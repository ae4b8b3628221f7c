"""The domain's errors: raised by pure rules, mapped to HTTP or dead letters at the edge."""


class DomainError(Exception):
    """Base of every rule the domain refuses to apply; `reason` is a short machine code."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.reason}: {self.detail}"


class InvalidStockChange(DomainError):
    """A stock message would break a stock invariant; it is dead-lettered, never applied."""
