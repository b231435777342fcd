"""The Finnish Business ID (Y-tunnus): seven digits, a hyphen and a mod-11 check digit."""

from __future__ import annotations

import re

_FORMAT = re.compile(r"^(\d{6,7})-(\d)$")
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2)


def check_digit(digits: str) -> int | None:
    """The check digit of seven digits, or None where no digit is valid (remainder 1)."""
    remainder = sum(int(d) * w for d, w in zip(digits, _WEIGHTS, strict=True)) % 11
    if remainder == 1:
        return None
    return 0 if remainder == 0 else 11 - remainder


def normalize_business_id(value: str) -> str:
    """`1234567-8` from what a person types (spaces, old six-digit ids); ValueError if wrong."""
    cleaned = value.strip().replace(" ", "")
    match = _FORMAT.match(cleaned)
    if not match:
        raise ValueError("a Business ID (Y-tunnus) looks like 1234567-8")
    digits = match.group(1).rjust(7, "0")
    expected = check_digit(digits)
    if expected is None or int(match.group(2)) != expected:
        raise ValueError("the check digit of the Business ID (Y-tunnus) does not match")
    return f"{digits}-{match.group(2)}"
