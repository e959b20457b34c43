"""The maintenance domain's errors; only api/errors.py turns them into HTTP answers."""

from __future__ import annotations


class MaintenanceError(Exception):
    pass


class NotFound(MaintenanceError):
    def __init__(self, kind: str, key: object) -> None:
        self.kind, self.key = kind, key
        super().__init__(f"{kind} {key} not found")


class InvalidInput(MaintenanceError):
    """Input that passed type validation but breaks a domain rule; `field` is its path."""

    def __init__(self, field: str, message: str) -> None:
        self.field, self.message = field, message
        super().__init__(f"{field}: {message}")


class ConcurrentUpdate(MaintenanceError):
    """Someone else changed the ticket since it was read (optimistic locking)."""

    def __init__(self, ticket_id: int) -> None:
        self.ticket_id = ticket_id
        super().__init__(f"ticket {ticket_id} was changed concurrently; reload and retry")
