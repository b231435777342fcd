"""Customer numbers as people write them."""

from __future__ import annotations

import re

NUMBER_MAX_LENGTH = 50
_NUMBER = re.compile(r"^[\w][\w.\-/]*$")


def clean_number(value: str) -> str:
    """A number as given by a person: digits or letters, `-`, `.`, `/`; ValueError if not."""
    cleaned = str(value).strip()
    if not cleaned:
        raise ValueError("must not be empty")
    if len(cleaned) > NUMBER_MAX_LENGTH:
        raise ValueError(f"must be at most {NUMBER_MAX_LENGTH} characters")
    if not _NUMBER.match(cleaned):
        raise ValueError("may have letters, digits and - . / only, starting with a letter or digit")
    return cleaned
