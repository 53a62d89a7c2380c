"""Exceptions of the engine's public API."""

from __future__ import annotations

from typing import Any


class ConnectionRefused(Exception):
    """Raised by a connect handler to refuse a namespace connection.

    The client receives ``CONNECT_ERROR`` with ``{"message": message}`` plus ``"data": data`` when given.
    """

    def __init__(self, message: str = "Connection refused", data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message}
        if self.data is not None:
            body["data"] = self.data
        return body
