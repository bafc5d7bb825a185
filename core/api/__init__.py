"""Shared REST API plumbing: the error shape, pagination and idempotency."""

from core.api.exceptions import exception_handler

__all__ = ["exception_handler"]
