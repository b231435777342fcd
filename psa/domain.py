"""Small pieces the services' domain models share (standard library only)."""

from __future__ import annotations

from typing import Any


def copy_state(value: Any) -> Any:
    """Copy plain state (dicts and lists of immutable values) much faster than `deepcopy`."""
    if isinstance(value, dict):
        return {key: copy_state(item) for key, item in value.items()}
    if isinstance(value, list):
        return [copy_state(item) for item in value]
    return value


class PlainStateCopy:
    """Aggregates whose state is plain data copy themselves structurally.

    The repository hands out a copy of the cached aggregate to every reader; `deepcopy` made
    that copy the largest cost of a request.
    """

    def __deepcopy__(self, memo: dict[int, Any]) -> Any:
        clone = object.__new__(type(self))
        clone.__dict__.update({key: copy_state(value) for key, value in vars(self).items()})
        return clone
