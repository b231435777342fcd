"""How an import file's columns feed the columns of a register (`psa.customer_rules.columns`):
by name, Finnish or English, or by the mapping given at upload."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from psa.customer_rules.columns import Column, columns, header_key

__all__ = ["Column", "Mapping", "columns", "header_key", "map_headers", "mapping_problems"]


@dataclass(frozen=True)
class Mapping:
    """Which file column (by position) feeds which column key; what was not recognised."""

    positions: dict[int, str]
    missing_required: list[Column]
    # File columns not imported, by position (from 0) → header: not recognised, or of a
    # column key another file column has already.
    unknown_at: dict[int, str] = field(default_factory=dict)
    # Of those, the ones of a key another has: position → (that one's position, header).
    repeated_at: dict[int, tuple[int, str]] = field(default_factory=dict)

    @property
    def unknown(self) -> list[str]:
        """The headers of the file columns not imported, in the file's order."""
        return [self.unknown_at[p] for p in sorted(self.unknown_at)]

    @property
    def repeated(self) -> dict[str, str]:
        """A column of a key another file column has → that one's header."""
        return {self.unknown_at[p]: first for p, (_, first) in self.repeated_at.items()}

    def not_imported(self) -> list[tuple[str, str]]:
        """Each file column that is not imported (its header), with why; the letters of the
        columns tell apart two of one name."""
        from openpyxl.utils import get_column_letter

        def letter(position: int) -> str:
            return get_column_letter(position + 1)

        return [
            (
                label,
                f"the column '{self.repeated_at[position][1]}' "
                f"({letter(self.repeated_at[position][0])}) is imported as this already: this "
                f"one ({letter(position)}) is not imported"
                if position in self.repeated_at
                else "this column is not a column of the import: map it or leave it out",
            )
            for position, label in sorted(self.unknown_at.items())
        ]


def mapping_problems(
    headers: list[Any], known: list[Column], given: dict[str, str | None]
) -> list[tuple[str, str]]:
    """What is wrong with a mapping given for a file with these headers, as errors of the
    `mapping` field: a file column it names that the file lacks, a column of the import
    that does not exist, or two file columns mapped to one."""
    present = {header_key(h) for h in headers if str(h or "").strip()}
    names = _names(known)
    problems: list[tuple[str, str]] = []
    targets: dict[str, str] = {}
    for source, target in given.items():
        if header_key(source) not in present:
            problems.append(("mapping", f"the file has no column '{source}'"))
        if target is None or target == "":
            continue
        key = names.get(target)
        if key is None:
            problems.append(
                ("mapping", f"'{target}' (for '{source}') is not a column of the import")
            )
        elif key in targets:
            problems.append(
                ("mapping", f"'{targets[key]}' and '{source}' are both mapped to '{target}'")
            )
        else:
            targets[key] = source
    return problems


def exact_key(header: Any) -> str:
    """A header as compared first: case, punctuation and spacing do not matter; accents do."""
    text = unicodedata.normalize("NFC", str(header or "")).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).replace("_", " ").split())


class _Lookup:
    """Names → values: a name with its accents as written first, else without accents when
    that names one value only (two names that differ only in accents, such as additional
    fields 'Päätös' and 'Paatos', are each found by their own spelling)."""

    def __init__(self, items: list[tuple[Any, Any]]) -> None:
        self.exact: dict[str, Any] = {}
        self.folded: dict[str, list[Any]] = {}
        for name, value in items:
            self.exact.setdefault(exact_key(name), value)
            found = self.folded.setdefault(header_key(name), [])
            if value not in found:
                found.append(value)

    def get(self, name: Any) -> Any:
        if exact_key(name) in self.exact:
            return self.exact[exact_key(name)]
        found = self.folded.get(header_key(name), [])
        return found[0] if len(found) == 1 else None


def _names(known: list[Column]) -> _Lookup:
    """Every name a column is known by (its header, key and English names) → its key."""
    return _Lookup(
        [
            (name, column.key)
            for column in known
            for name in (column.header, column.key, *column.english)
        ]
    )


def _mapped(labels: list[str], given: dict[str, str | None]) -> dict[str, str | None]:
    """The file's columns the mapping names → their targets: by the spelling of the mapping's
    name, else by that name without accents when it names one column the others did not."""
    exact = {exact_key(source): source for source in given}
    mapped: dict[str, str | None] = {}
    claimed = set()
    for label in labels:
        if exact_key(label) in exact:
            mapped[label] = given[exact[exact_key(label)]]
            claimed.add(exact[exact_key(label)])
    for label in labels:
        if label in mapped:
            continue
        sources = [s for s in given if s not in claimed and header_key(s) == header_key(label)]
        if len(sources) == 1:
            mapped[label] = given[sources[0]]
            claimed.add(sources[0])
    return mapped


def _labels(headers: list[Any]) -> list[str]:
    return [label for label in (str(h or "").strip() for h in headers) if label]


def map_headers(
    headers: list[Any], known: list[Column], given: dict[str, str | None] | None = None
) -> Mapping:
    """Match the file's headers to columns: by the mapping given (a header to a column key,
    Finnish or English header; nothing to leave it out), else by name, Finnish or English.
    A column the mapping feeds is fed by that file column, not by one that has its name."""
    names = _names(known)
    wanted = _mapped(_labels(headers), given or {})
    positions: dict[int, str] = {}
    unknown: dict[int, str] = {}  # position → label
    first: dict[str, tuple[int, str]] = {}  # column key → the file column that feeds it
    repeated_at: dict[int, tuple[int, str]] = {}

    def feed(position: int, label: str, key: str) -> None:
        if key in first:  # the first column of a key is imported, the others reported
            repeated_at[position] = first[key]
            unknown[position] = label
        else:
            first[key] = (position, label)
            positions[position] = key

    labels = [(p, str(h or "").strip()) for p, h in enumerate(headers)]
    labels = [(p, label) for p, label in labels if label]
    # The columns the mapping names first: they feed their columns whatever else is there.
    for position, label in labels:
        if label not in wanted:
            continue
        target = wanted[label]
        if target is None or target == "":
            continue  # mapped to nothing: not imported
        resolved = names.get(target)
        if resolved is None:
            unknown[position] = label
        else:
            feed(position, label, resolved)
    for position, label in labels:
        if label in wanted:
            continue
        resolved = names.get(label)
        if resolved is not None:
            feed(position, label, resolved)
        else:
            unknown[position] = label
    present = set(positions.values())
    missing = [c for c in known if c.required and c.key not in present]
    return Mapping(dict(sorted(positions.items())), missing, unknown, repeated_at)
