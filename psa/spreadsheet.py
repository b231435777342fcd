"""Cells of the CSV files the services write for people to open in a spreadsheet."""

from __future__ import annotations

from typing import Any

# What a spreadsheet takes for the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: Any, starts: tuple[str, ...] = FORMULA_START) -> str:
    """A cell value that no spreadsheet runs as a formula: an apostrophe before a value that
    `starts` with one of these."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(starts) else text


def export_cell(value: Any) -> str:
    """A cell of the customer export: neutralised, and a value that starts with an apostrophe
    gets one more, so that an import, which takes off the apostrophe before `= + - @` or
    another apostrophe, reads back every value as it was."""
    return neutralize(value, (*FORMULA_START, "'"))
