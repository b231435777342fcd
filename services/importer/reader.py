"""Reading an uploaded register, row by row: CSV as spreadsheets in Finland write it (UTF-8
with or without a BOM, or Windows-1252; `;` or `,`; quoted fields with line breaks), in
constant memory; and XLSX.

An XLSX is read with calamine (python-calamine, in Rust), about fifteen times as fast as
openpyxl, when calamine can hold its first sheet: calamine reads a sheet whole, as a grid from
its first used cell to its last (about 35 bytes a cell, however empty), so the workbook's XML
and its sheets' area are bounded first. Any other workbook (a large one, a stray value far
down or right, error cells, cells written without a plain reference) is read with openpyxl's
streaming reader, in constant memory. Both give the same values: empty cells as None, whole
numbers as int, dates as datetime."""

from __future__ import annotations

import codecs
import csv
import datetime
import html
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from psa.errors import ValidationFailed

MAX_BYTES = 200 * 1024 * 1024
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an encrypted (protected) or old .xls
ZIP_SIGNATURE = b"PK\x03\x04"
# Workbooks read with calamine: at most this much XML in sheets and shared strings, and at most
# this many cells in the area of each sheet.
CALAMINE_MAX_XML = 32 * 1024 * 1024
CALAMINE_MAX_CELLS = 2_000_000


# What a cell holds whose formula has no computed value (a workbook written by a program,
# not saved by a spreadsheet program): the checks report it as an error of the cell.
FORMULA_WITHOUT_VALUE = "#FORMULA WITHOUT VALUE"


def filled(value: Any) -> bool:
    """Whether a cell has a value (not empty, nor only spaces)."""
    return value is not None and str(value).strip() != ""


class FileProblem(ValidationFailed):
    """The file as a whole cannot be read: the import fails before any row."""

    def __init__(self, message: str) -> None:
        super().__init__([("file", message)])


@dataclass(frozen=True)
class Sheet:
    """A readable file: its format, headers, and a way to iterate its data rows."""

    path: Path
    format: str  # csv | xlsx
    encoding: str | None = None
    delimiter: str | None = None
    first_row: tuple[Any, ...] | None = None  # the header row, as read when the file was opened
    whole: bool = False  # an XLSX calamine can hold, read whole
    lossy: bool = False  # a CSV not all text in its encoding: its cells may hold U+FFFD

    def rows(self) -> Iterator[tuple[int, list[Any]]]:
        """(row number as a spreadsheet shows it, values); the header is row 1."""
        width = self.width
        rows = _csv_rows(self) if self.format == "csv" else _xlsx_rows(self.path, self.whole, width)
        # A workbook read whole has none (`_calamine_can_hold`).
        unvalued = _unvalued_formulas(self.path) if self.format == "xlsx" and not self.whole else {}
        for number, values in enumerate(rows, start=1):
            if number == 1:
                continue
            for column in unvalued.get(number, ()):
                if column < len(values):
                    values[column] = FORMULA_WITHOUT_VALUE  # a row of its own (`_openpyxl_rows`)
            # Empty cells past the header are dropped; a CSV row with values there is kept
            # whole, for the checks to report (`overflow`).
            if width is not None and len(values) > width and not any(map(filled, values[width:])):
                values = values[:width]
            if not any(map(filled, values)):
                continue  # blank lines are not rows
            yield number, values

    @property
    def width(self) -> int | None:
        """The columns that have a header: a workbook's rows are read no further."""
        if self.first_row is None:
            return None
        named = [i for i, v in enumerate(self.first_row) if v is not None and str(v).strip()]
        return named[-1] + 1 if named else 1

    def overflow(self, values: list[Any]) -> str | None:
        """Why a row of `rows()` has values past the last column with a header, if it has:
        most often a value with the delimiter in it, not in quotes."""
        width = self.width
        if width is None or len(values) <= width:
            return None
        delimiter = {";": ";", ",": ",", "\t": "a tab"}.get(self.delimiter or ";", ";")
        return (
            f"the row has {len(values)} cells, the header {width}: a value with {delimiter} "
            "in it must be in quotes"
        )

    def estimated_rows(self) -> int | None:
        """About how many data rows the file has, known before it is read: a CSV's lines, a
        workbook's last row as its first sheet records it, or its last row's number (None if
        the rows are not numbered). Blank lines and line breaks inside quoted values make it
        more than there are."""
        if self.format == "csv":
            return max(_lines(self.path) - 1, 0)
        try:
            with zipfile.ZipFile(self.path) as archive:
                last = _recorded_last_row(archive)
        except (zipfile.BadZipFile, OSError, EOFError):
            return None
        return None if last is None else max(last - 1, 0)

    def headers(self) -> list[Any]:
        if self.first_row is not None:
            return list(self.first_row)
        rows = _csv_rows(self) if self.format == "csv" else _xlsx_rows(self.path, self.whole, None)
        for values in rows:
            return list(values)
        raise FileProblem("the file is empty")


def open_sheet(path: Path, filename: str) -> Sheet:
    """The file's format and, for CSV, its encoding and delimiter; FileProblem if unreadable."""
    size = path.stat().st_size
    if size == 0:
        raise FileProblem("the file is empty")
    if size > MAX_BYTES:
        raise FileProblem(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB")
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    name = filename.lower()
    if head.startswith(OLE_SIGNATURE):
        raise FileProblem(
            "the workbook is password-protected or an old .xls file: save it as an "
            "unprotected .xlsx or as CSV"
        )
    if head.startswith(ZIP_SIGNATURE) or name.endswith((".xlsx", ".xlsm")):
        try:
            with zipfile.ZipFile(path) as archive:
                if "xl/workbook.xml" not in archive.namelist():
                    raise FileProblem("the file is not an Excel workbook (.xlsx)")
                whole = _calamine_can_hold(archive)
        except (zipfile.BadZipFile, OSError, EOFError):
            raise FileProblem("the workbook is broken: it cannot be opened as .xlsx") from None
        sheet = Sheet(path, "xlsx", whole=whole)
        return replace(sheet, first_row=tuple(sheet.headers()))
    if head.startswith(b"%PDF"):
        raise FileProblem("the file is a PDF document, not CSV or an Excel workbook (.xlsx)")
    if name.endswith(".json") or head.lstrip(b"\xef\xbb\xbf \t\r\n")[:1] in (b"{", b"["):
        raise FileProblem("the file is JSON, not CSV or an Excel workbook (.xlsx)")
    if b"\x00" in head:
        raise FileProblem("the file is neither CSV nor an Excel workbook (.xlsx)")
    encoding, lossy = _encoding(path, head)
    text = head.decode(encoding, errors="replace")
    sheet = Sheet(path, "csv", encoding, _delimiter(text), lossy=lossy)
    return replace(sheet, first_row=tuple(sheet.headers()))


def _encoding(path: Path, head: bytes) -> tuple[str, bool]:
    """The file's encoding, and whether it is not all text in it (bytes that are not are
    read as U+FFFD, which the checks report)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", False
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(1024 * 1024):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        if _mostly_utf8(path):
            return "utf-8", True
        return "cp1252", _has_bytes(path, _NOT_CP1252)
    return "utf-8", False


_NOT_CP1252 = (b"\x81", b"\x8d", b"\x8f", b"\x90", b"\x9d")  # no character in Windows-1252


def _has_bytes(path: Path, wanted: tuple[bytes, ...]) -> bool:
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            if any(byte in chunk for byte in wanted):
                return True
    return False


def _mostly_utf8(path: Path) -> bool:
    """Whether a file that is not all UTF-8 is UTF-8 with a few stray bytes (more of its
    non-ASCII characters read as UTF-8 are characters than stray bytes), rather than
    Windows-1252, whose letters seldom form UTF-8 characters. The whole file counts: its
    first letters may come after a megabyte of plain ASCII."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    stray = non_ascii = 0
    with path.open("rb") as handle:
        while True:
            chunk = handle.read(1024 * 1024)
            text = decoder.decode(chunk, final=not chunk)
            stray += text.count("\ufffd")
            non_ascii += len(text) - len(text.encode("ascii", errors="ignore"))
            if not chunk:
                break
    return non_ascii - stray > stray


def _delimiter(text: str) -> str:
    first = text.split("\n", 1)[0]
    counts = {d: first.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ";"


def _csv_rows(sheet: Sheet) -> Iterator[list[Any]]:
    """The records of a CSV. A quote (") opened by mistake takes in the lines up to the next
    quote as one value: a value over several lines that holds a line with a whole row's
    delimiters is such a quote, and fails the file naming its line (its rows would otherwise
    be lost silently, or the value would outgrow the reader's limit far below)."""
    delimiter = sheet.delimiter or ";"
    row_like = max(1, (sheet.width or 1) - 1)  # delimiters of a line that is a row
    with sheet.path.open(encoding=sheet.encoding, errors="replace", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1  # the line the record being read starts on
        try:
            for record in reader:
                if reader.line_num > start and any(
                    line.count(delimiter) >= row_like
                    for value in record
                    for line in value.splitlines()[1:]
                ):
                    raise FileProblem(
                        f'line {start}: a quote (") opens a value that takes in the lines up to '
                        f"line {reader.line_num} as if they were one cell; remove or close it"
                    )
                yield record
                start = reader.line_num + 1
        except csv.Error as error:
            hint = (
                '; a quote (") there may open a value that is never closed'
                if "field larger" in str(error)
                else ""
            )
            raise FileProblem(
                f"the CSV cannot be read from line {start} on: {error}{hint}"
            ) from None


def _lines(path: Path) -> int:
    """The lines of a text file (ended by LF, CRLF or, failing those, CR)."""
    newlines = returns = 0
    last = b""
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            newlines += chunk.count(b"\n")
            returns += chunk.count(b"\r")
            last = chunk[-1:]
    ends = newlines or returns
    return ends + (1 if last and last not in b"\r\n" else 0)


_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*>")
_RELATIONSHIP = re.compile(rb"<(?:\w+:)?Relationship\b[^>]*>")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="[A-Z]{1,3}[0-9]+(?::[A-Z]{1,3}([0-9]+))?"')


def _recorded_last_row(archive: zipfile.ZipFile) -> int | None:
    """The last row of the workbook's first visible worksheet as the sheet records it (its
    `<dimension>`), without reading the sheet's cells."""
    target = _first_shown_sheet(archive)
    if target is None:
        return None
    try:
        with archive.open(target) as handle:
            head = handle.read(64 * 1024)
            if (match := _DIMENSION.search(head)) is not None:
                return int(match.group(1) or 1)
            return _last_row(head, handle)
    except KeyError:
        return None


_UNVALUED = re.compile(
    rb'<c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>(?:<f[^>]*/>|<f[^>]*>[^<]*</f>)(?:<v\s*/>|<v></v>)?</c>'
)
MAX_UNVALUED = 10_000  # cells noted; a sheet of more fails more rows than anyone reads


def _unvalued_formulas(path: Path) -> dict[int, list[int]]:
    """The cells of the workbook's first visible worksheet whose formula has no computed
    value: row → column positions (from 0)."""
    found: dict[int, list[int]] = {}
    try:
        with zipfile.ZipFile(path) as archive:
            target = _first_shown_sheet(archive)
            if target is None:
                return found
            with archive.open(target) as handle:
                noted = 0
                for data in _xml_chunks(handle):
                    if b"<f" not in data:
                        continue
                    for letters, row in _UNVALUED.findall(data):
                        found.setdefault(int(row), []).append(_column_number(letters) - 1)
                        noted += 1
                        if noted >= MAX_UNVALUED:
                            return found
    except (zipfile.BadZipFile, OSError, EOFError, KeyError):
        return found
    return found


def _first_shown_sheet(archive: zipfile.ZipFile) -> str | None:
    """The part of the workbook's first visible worksheet (`_shown_sheet`)."""
    shown = _shown_sheet(archive)
    return None if shown is None else shown[1]


def _shown_sheet_name(path: Path) -> str | None:
    """The name of the workbook's first visible worksheet (`_shown_sheet`)."""
    try:
        with zipfile.ZipFile(path) as archive:
            shown = _shown_sheet(archive)
    except (zipfile.BadZipFile, OSError, EOFError):
        return None
    return None if shown is None else shown[0]


def _shown_sheet(archive: zipfile.ZipFile) -> tuple[str, str] | None:
    """The name and part of the sheet an import reads: the workbook's first visible
    worksheet (the first one if none is). Every reading of a workbook reads this one."""
    try:
        workbook = archive.read("xl/workbook.xml")
        relationships = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    targets = {}
    for tag in _RELATIONSHIP.findall(relationships):
        found = dict(re.findall(rb'(\w+)="([^"]*)"', tag))
        if b"Id" in found and b"Target" in found:
            targets[found[b"Id"]] = found[b"Target"].decode().lstrip("/").removeprefix("xl/")
    sheets = []  # (hidden, name, part) of each worksheet, in the workbook's order
    for tag in _SHEET.findall(workbook):
        found = dict(re.findall(rb'([\w:]+)="([^"]*)"', tag))
        target = targets.get(found.get(b"r:id", b""), "")
        if target.startswith("worksheets/"):
            name = html.unescape(found.get(b"name", b"").decode())
            sheets.append((found.get(b"state", b"visible") != b"visible", name, "xl/" + target))
    if not sheets:
        return None
    _, name, part = min(sheets, key=lambda sheet: sheet[0])  # the first one shown
    return name, part


_ROW = re.compile(rb'<(?:\w+:)?row\b[^>]*?\br="([0-9]+)"')


def _last_row(head: bytes, handle: Any) -> int | None:
    """The last row a sheet that records no size has, by the numbers of its rows (read
    through, not parsed: about a second for a hundred megabytes of XML)."""
    last = None
    for data in _xml_chunks(handle, head):
        if found := _ROW.findall(data):
            last = int(found[-1])
    return last


def _xml_chunks(handle: Any, head: bytes = b"") -> Iterator[bytes]:
    """A sheet's XML (after `head`, read already) a few megabytes at a time, each chunk cut
    before the last tag it begins, which starts the next chunk; the last chunk is the rest."""
    rest = head
    while chunk := handle.read(4 << 20):
        data = rest + chunk
        cut = max(data.rfind(b"<"), 0)
        yield data[:cut]
        rest = data[cut:]
    yield rest


def _xlsx_rows(path: Path, whole: bool, width: int | None) -> Iterator[list[Any]]:
    return _calamine_rows(path) if whole else _openpyxl_rows(path, width)


_CELL_REFERENCE = re.compile(rb'<c r="([A-Z]{1,3})([0-9]{1,7})"')


def _calamine_can_hold(archive: zipfile.ZipFile) -> bool:
    """Whether calamine can read the workbook's sheets whole in bounded memory: their XML is
    at most CALAMINE_MAX_XML, each sheet's area (from A1 to its farthest row and column) at
    most CALAMINE_MAX_CELLS, and every cell has a plain reference and no error value (which
    calamine would read as empty, where openpyxl gives its text, `#N/A`, for the checks)."""
    sheets = [i for i in archive.infolist() if i.filename.startswith("xl/worksheets/")]
    xml = sum(i.file_size for i in archive.infolist() if i.filename == "xl/sharedStrings.xml")
    if xml + sum(i.file_size for i in sheets) > CALAMINE_MAX_XML:
        return False
    for info in sheets:
        columns: set[bytes] = set()
        last_row = cells = references = 0
        plain = False  # SpreadsheetML without a namespace prefix, which the scan reads
        with archive.open(info) as handle:
            for data in _xml_chunks(handle):
                if b't="e"' in data or (b"<f" in data and _UNVALUED.search(data)):
                    return False
                plain = plain or b"<sheetData" in data
                found = _CELL_REFERENCE.findall(data)
                if found:
                    letters, rows = zip(*found, strict=True)
                    columns.update(letters)
                    last_row = max(last_row, *map(int, rows))
                references += len(found)
                cells += data.count(b"<c ") + data.count(b"<c>")
        if cells != references or not plain:
            return False
        last_column = max((_column_number(c) for c in columns), default=0)
        if last_row * last_column > CALAMINE_MAX_CELLS:
            return False
    return True


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + letter - 64
    return number


def _calamine_rows(path: Path) -> Iterator[list[Any]]:
    from python_calamine import CalamineError, CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
        try:
            sheets = [s for s in workbook.sheets_metadata if str(s.typ).endswith("WorkSheet")]
            if not sheets:
                raise FileProblem("the workbook has no worksheet")
            names = [s.name for s in sheets]
            shown = _shown_sheet_name(path)
            sheet = workbook.get_sheet_by_name(shown if shown in names else names[0])
            # Rows from row 1; columns from the first that has a value: put back those before.
            before = [None] * sheet.start[1] if sheet.start else []
            rows = sheet.iter_rows()
        finally:
            workbook.close()
    except (CalamineError, OSError, ValueError) as error:
        raise FileProblem(f"the workbook is broken: {error}") from None
    for values in rows:
        yield [*before, *(_CELL.get(type(v), _same)(v) for v in values)]


def _same(value: Any) -> Any:
    return value


def _text(value: str) -> str | None:
    return value or None  # an empty cell


def _number(value: float) -> float | int:
    """Whole numbers as int, as openpyxl reads them (a number of the register, say)."""
    return int(value) if value.is_integer() and abs(value) < 2**53 else value


def _date(value: datetime.date) -> datetime.datetime:
    return datetime.datetime(value.year, value.month, value.day)


_CELL: dict[type, Any] = {str: _text, float: _number, datetime.date: _date}


def _openpyxl_rows(path: Path, width: int | None = None) -> Iterator[list[Any]]:
    from openpyxl import load_workbook

    # A file object, not the path: openpyxl judges a path by its extension, and uploads are
    # stored without one.
    with path.open("rb") as handle:
        try:
            workbook = load_workbook(handle, read_only=True, data_only=True)
        except Exception as error:  # openpyxl raises many kinds for a broken file
            raise FileProblem(f"the workbook is broken: {error}") from None
        try:
            shown = _shown_sheet_name(path)
            worksheet = workbook[shown] if shown in workbook.sheetnames else workbook.worksheets[0]
            for values in worksheet.iter_rows(values_only=True, max_col=width):
                yield list(values)
        except Exception as error:  # a sheet broken further in
            raise FileProblem(f"the workbook is broken: {error}") from None
        finally:
            workbook.close()


def csv_bytes(rows: list[list[Any]], delimiter: str = ";", bom: bool = True) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()
