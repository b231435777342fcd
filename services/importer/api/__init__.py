"""The importer's HTTP API."""

from .imports import router

__all__ = ["router"]
