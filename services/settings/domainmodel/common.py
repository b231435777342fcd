"""Values shared by the settings aggregates: who acts, and how names are compared."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from psa.domain import PlainStateCopy, copy_state
from psa.errors import ConflictError, DomainError

__all__ = ["PlainStateCopy", "copy_state"]

NAME_MAX_LENGTH = 100
# Format and control characters (zero-width spaces, joiners, direction marks, ...).
_INVISIBLE = frozenset({"Cf", "Cc"})


@dataclass(frozen=True)
class Actor:
    """The user behind a command, as the token names them."""

    id: str
    name: str
    company_ids: tuple[str, ...] = field(default_factory=tuple)
    roles: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles


def clean_name(value: str, field_name: str = "name", max_length: int = NAME_MAX_LENGTH) -> str:
    """Trim a name, compose its accents (NFC), drop invisible characters, check its length."""
    if not isinstance(value, str):
        raise DomainError("must be text", field_name)
    visible = "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE)
    cleaned = " ".join(unicodedata.normalize("NFC", visible).split())
    if not cleaned:
        raise DomainError("must not be empty", field_name)
    if len(cleaned) > max_length:
        raise DomainError(f"must be at most {max_length} characters", field_name)
    return cleaned


def name_key(value: str) -> str:
    """Names are compared trimmed, case-insensitively and by their compatibility form, so
    "Yhtiö" typed with a combining diaeresis is the same name as with a precomposed ö."""
    visible = "".join(ch for ch in value if unicodedata.category(ch) not in _INVISIBLE)
    return " ".join(unicodedata.normalize("NFKC", visible).casefold().split())


def check_unique_name(
    name: str,
    items: dict[str, dict],  # type: ignore[type-arg]
    what: str,
    field_name: str = "name",
    except_id: str | None = None,
) -> None:
    """Refuse a name that another item of the same collection has (archived ones too)."""
    key = name_key(name)
    for item_id, item in items.items():
        if item_id != except_id and name_key(item["name"]) == key:
            hint = " (archived; restore it instead)" if item.get("archived") else ""
            raise ConflictError(f"{what} named '{item['name']}' already exists{hint}", field_name)


def event_type(event: Any) -> str:
    """The published name of a stored event: its class name unless it sets `type_name`."""
    return str(getattr(type(event), "type_name", type(event).__name__))
