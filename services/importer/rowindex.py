"""What the check of a file keeps of its rows, in memory that does not grow with the file's
strings: sets of row numbers as one byte per row (`RowSet`), and the rows' business ids,
numbers (or identities), parents, the customers they find and the numbers later batches
give in a scratch SQLite file beside the job's spool (`RowIndex`). A file of a million rows
that all give a number and a business id is checked in a few MiB more than a file that gives
none."""

from __future__ import annotations

import contextlib
import itertools
import sqlite3
from array import array
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

# Values asked of the scratch file or the register at a time.
CHUNK = 500


class ScratchFileError(OSError):
    """The scratch file failed (the disk is full, say): a failure of the job's files, which
    fails the job, not of the store, which the job would wait out."""


@contextlib.contextmanager
def _scratch() -> Iterator[None]:
    try:
        yield
    except sqlite3.Error as error:
        raise ScratchFileError(f"the import's scratch file failed: {error}") from error


class RowSet:
    """A set of row numbers of a file, one byte per row up to the largest."""

    def __init__(self, rows: Iterable[int] = ()) -> None:
        self._flags = bytearray()
        self._count = 0
        for row in rows:
            self.add(row)

    def add(self, row: int) -> None:
        if row >= len(self._flags):
            self._flags.extend(bytes(max(row + 1 - len(self._flags), len(self._flags) // 2)))
        if not self._flags[row]:
            self._flags[row] = 1
            self._count += 1

    def discard(self, row: int) -> None:
        if row < len(self._flags) and self._flags[row]:
            self._flags[row] = 0
            self._count -= 1

    def __contains__(self, row: object) -> bool:
        return isinstance(row, int) and 0 <= row < len(self._flags) and self._flags[row] == 1

    def __len__(self) -> int:
        return self._count

    def __bool__(self) -> bool:
        return self._count > 0

    def __iter__(self) -> Iterator[int]:
        """The rows in order."""
        flags = self._flags
        row = flags.find(1)
        while row != -1:
            yield row
            row = flags.find(1, row + 1)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RowSet | set | frozenset):
            return set(self) == set(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"RowSet({sorted(self)})"


class Hierarchy:
    """The parents of a file's rows that are rows of the same file: row → its parent's row
    (the first row that gives the parent's number)."""

    def __init__(self) -> None:
        self._up = array("i")
        self.children = RowSet()  # rows whose parent is a row of the file

    def link(self, row: int, parent: int) -> None:
        if row >= len(self._up):
            self._up.frombytes(bytes(4 * max(row + 1 - len(self._up), len(self._up) // 2)))
        self._up[row] = parent
        self.children.add(row)

    def parent(self, row: int) -> int | None:
        return self._up[row] or None if row < len(self._up) else None

    def ancestors(self, row: int) -> tuple[list[int], int | None]:
        """The rows above a row in the file, its parent first, up to a row without a parent
        in the file; and the row the walk came back to, if the parents form a loop."""
        chain: list[int] = []
        current = row
        while (parent := self.parent(current)) is not None:
            if parent == row or parent in chain:
                return chain, parent
            chain.append(parent)
            current = parent
        return chain, None

    def levels(self) -> array[int]:
        """Each row's depth below a parent in the same file (0 for the others)."""
        levels = array("i", bytes(4 * len(self._up)))
        for row in self.children:
            levels[row] = len(self.ancestors(row)[0])
        return levels


class RowIndex:
    """The business ids, numbers (case-folded) and parents' numbers the rows of a file give,
    the customers of the register they find, and the numbers later batches give: in a
    scratch SQLite file of the check's own, removed with it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with _scratch():
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._create()
        self._window: deque[tuple[tuple[int, int], str]] | None = None  # `reserved_after`
        self._window_key = (0, 0)
        self._late: sqlite3.Cursor | None = None

    def _create(self) -> None:
        for pragma in (
            "journal_mode = OFF",
            "synchronous = OFF",
            "cache_size = -4096",  # KiB: the file's pages stay on disk, not in memory
            "temp_store = FILE",
        ):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(
            """
            CREATE TABLE row_key (row INTEGER PRIMARY KEY, business_id TEXT, number TEXT,
                parent TEXT, given_number TEXT, identity TEXT);
            CREATE INDEX row_key_business_id ON row_key (business_id)
                WHERE business_id IS NOT NULL;
            CREATE INDEX row_key_identity ON row_key (identity) WHERE identity IS NOT NULL;
            CREATE INDEX row_key_number ON row_key (number) WHERE number IS NOT NULL;
            CREATE TABLE found (row INTEGER PRIMARY KEY, customer_id TEXT NOT NULL,
                column_key TEXT NOT NULL, taken_number TEXT);
            CREATE INDEX found_customer ON found (customer_id);
            CREATE TABLE namesake (row INTEGER PRIMARY KEY, message TEXT NOT NULL);
            CREATE TABLE late (stage INTEGER, slot INTEGER, row INTEGER, number TEXT,
                PRIMARY KEY (stage, slot, row)) WITHOUT ROWID;
            """
        )

    def _write(self, statement: str, rows: Iterable[Any]) -> int:
        """Write many rows in one transaction (one commit, not one per row); how many."""
        with _scratch():
            before = self.db.total_changes
            self.db.execute("BEGIN")
            try:
                self.db.executemany(statement, rows)
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("COMMIT")
            return self.db.total_changes - before

    def close(self) -> None:
        try:
            self.db.close()
        finally:
            self.path.unlink(missing_ok=True)

    # ---------------------------------------------------------------- the file's keys
    def add(
        self, rows: list[tuple[int, str | None, str | None, str | None, str | None, str | None]]
    ) -> list[tuple[int, str, int]]:
        """Keep a chunk of rows' (row, business id, number, parent's number: the numbers
        case-folded; the number as the row gives it; the identity of a row without a business
        id or number), in the file's order. Returns the rows that repeat a business id, number
        or identity of an earlier row, as (row, "business_id", "number" or "identity", the
        first row)."""
        repeated: list[tuple[int, str, int]] = []
        for position, column in ((1, "business_id"), (2, "number"), (5, "identity")):
            keys: list[tuple[int, Any]] = [(row[0], row[position]) for row in rows]
            first = self._first_rows(column, {value for _, value in keys if value})
            for number, value in keys:
                if value:
                    earlier = first.setdefault(value, number)
                    if earlier != number:
                        repeated.append((number, column, earlier))
        self._write(
            "INSERT INTO row_key (row, business_id, number, parent, given_number, identity) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [row for row in rows if row[1] or row[2] or row[3] or row[5]],
        )
        return repeated

    def _first_rows(self, column: str, values: Iterable[str]) -> dict[str, int]:
        return dict(
            self._select_in(
                f"SELECT {column}, MIN(row) FROM row_key WHERE {column} IN ({{marks}}) "
                f"GROUP BY {column}",
                values,
            )
        )

    def numbered(self) -> Iterator[int]:
        """The rows that give a number."""
        with _scratch():
            for (row,) in self.db.execute("SELECT row FROM row_key WHERE number IS NOT NULL"):
                yield row

    def keyed(
        self, column: str
    ) -> Iterator[list[tuple[int, str, str | None, str | None, str | None]]]:
        """Chunks of the rows with a business id (column "business_id"), a number or an
        identity, as (row, the value, the row's number case-folded and as the row gives it,
        its business id)."""
        with _scratch():
            cursor = self.db.execute(
                f"SELECT row, {column}, number, given_number, business_id FROM row_key "
                f"WHERE {column} IS NOT NULL ORDER BY row"
            )
            while chunk := cursor.fetchmany(CHUNK):
                yield chunk

    def parents(self) -> Iterator[tuple[int, str, int | None]]:
        """The rows that give a parent's number, with it and the first row of the file that
        gives that number (None if none does), in the file's order."""
        with _scratch():
            yield from self.db.execute(
                "SELECT c.row, c.parent, (SELECT MIN(p.row) FROM row_key p WHERE p.number = "
                "c.parent) FROM row_key c WHERE c.parent IS NOT NULL ORDER BY c.row"
            )

    # ---------------------------------------------------------------- customers found
    def found(self, rows: list[tuple[int, str, str, str | None]]) -> None:
        """Keep the customers of the register that rows find: (row, customer id, what found
        it: "business_id" or "number", the row's number if another customer has it)."""
        self._write(
            "INSERT OR REPLACE INTO found (row, customer_id, column_key, taken_number) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )

    def finds(self, order: str = "row") -> Iterator[tuple[int, str, str, str | None]]:
        """The rows that find a customer, in the file's order (or by customer: "customer")."""
        by = "customer_id, row" if order == "customer" else "row"
        with _scratch():
            yield from self.db.execute(
                f"SELECT row, customer_id, column_key, taken_number FROM found ORDER BY {by}"
            )

    def updating_with_parents(self) -> Iterator[list[tuple[int, str]]]:
        """Chunks of the rows that find a customer and give a parent's number, as (row,
        customer id), in the file's order."""
        with _scratch():
            cursor = self.db.execute(
                "SELECT f.row, f.customer_id FROM found f JOIN row_key c ON c.row = f.row "
                "WHERE c.parent IS NOT NULL ORDER BY f.row"
            )
            while chunk := cursor.fetchmany(CHUNK):
                yield chunk

    def parents_of(self, rows: Iterable[int]) -> dict[int, tuple[str, int | None]]:
        """Of these rows, those that give a parent's number: row → (the number, the first
        row of the file that gives it, if any)."""
        return {
            row: (parent, parent_row)
            for row, parent, parent_row in self._select_in(
                "SELECT c.row, c.parent, (SELECT MIN(p.row) FROM row_key p WHERE p.number = "
                "c.parent) FROM row_key c WHERE c.parent IS NOT NULL AND c.row IN ({marks})",
                rows,
            )
        }

    def customers_of(self, rows: Iterable[int]) -> dict[int, str]:
        """Of these rows, those that find a customer: row → customer id."""
        return dict(
            self._select_in("SELECT row, customer_id FROM found WHERE row IN ({marks})", rows)
        )

    def rows_finding(self, customer_ids: Iterable[str]) -> dict[str, list[int]]:
        """The rows that find these customers: customer id → its rows, in the file's order."""
        found: dict[str, list[int]] = {}
        for customer_id, row in self._select_in(
            "SELECT customer_id, row FROM found WHERE customer_id IN ({marks}) ORDER BY row",
            customer_ids,
        ):
            found.setdefault(customer_id, []).append(row)
        return found

    def _select_in(self, statement: str, values: Iterable[Any]) -> list[Any]:
        with _scratch():
            values = sorted(set(values))
            result: list[Any] = []
            for start in range(0, len(values), CHUNK):
                part = values[start : start + CHUNK]
                result += self.db.execute(
                    statement.format(marks=", ".join("?" for _ in part)), part
                ).fetchall()
            return result

    # ---------------------------------------------------------------- namesakes
    def add_namesakes(self, rows: list[tuple[int, str]]) -> None:
        """Keep the rows that would create a customer with the name of one in the register:
        (row, the note)."""
        self._write("INSERT OR REPLACE INTO namesake (row, message) VALUES (?, ?)", rows)

    def namesakes(self) -> Iterator[tuple[int, str]]:
        """The rows `add_namesakes` kept, with their notes, in the file's order."""
        with _scratch():
            yield from self.db.execute("SELECT row, message FROM namesake ORDER BY row")

    # ---------------------------------------------------------------- reserved numbers
    def reserve(self, late: Iterable[tuple[int, int, int, str]]) -> int:
        """Keep the numbers later batches give: (stage, slot, row, number). Returns how many."""
        return self._write("INSERT INTO late VALUES (?, ?, ?, ?)", late)

    def reserved_after(self, stage: int, slot: int, limit: int) -> list[str]:
        """The first `limit` numbers that batches after (stage, slot) give, nearest first.
        Asked batch after batch in order, the numbers are read once: a window of them moves
        along (asked out of order, it starts again)."""
        with _scratch():
            key = (stage, slot)
            if self._window is None or self._late is None or key < self._window_key:
                self._window = deque()
                self._late = self.db.execute(
                    "SELECT stage, slot, number FROM late ORDER BY 1, 2, row"
                )
            self._window_key, window, rows = key, self._window, self._late
            while window and window[0][0] <= key:
                window.popleft()
            while len(window) < limit and (late := rows.fetchone()) is not None:
                if (late[0], late[1]) > key:
                    window.append(((late[0], late[1]), late[2]))
            return [number for _, number in itertools.islice(window, limit)]
