"""HTTP API of the customers service (DESIGN.md §7)."""

from .customers import router

__all__ = ["router"]
