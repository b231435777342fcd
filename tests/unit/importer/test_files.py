"""Import files as people make them: CSV in the encodings and delimiters spreadsheets in
Finland write, XLSX, broken and foreign files; headers in Finnish or English; every error of
a row with its column."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook, load_workbook

from psa.customer_rules.settings_view import SettingsView, new_document
from services.importer.columns import columns, header_key, map_headers, mapping_problems
from services.importer.reader import FileProblem, open_sheet
from services.importer.template import template_csv, template_xlsx
from services.importer.validation import RowChecker

TENANT = "00000000-0000-0000-0000-000000000001"


def view(**changes: Any) -> SettingsView:
    document = new_document(TENANT)
    document["companies"] = {"c1": "Yhtiö"}
    document["users"] = {
        "maija": {
            "id": "maija",
            "name": "Maija Meikäläinen",
            "company_id": "c1",
            "company_ids": ["c1"],
            "roles": ["user"],
        }
    }
    document["customer_types"] = {
        "t-asiakas": {
            "id": "t-asiakas",
            "name": "Asiakas",
            "invoicing_allowed": True,
            "archived": False,
        },
        "t-ali": {
            "id": "t-ali",
            "name": "Alihankkija",
            "invoicing_allowed": False,
            "archived": False,
        },
    }
    document["default_types"] = {
        "customer": "t-asiakas",
        "subcontractor": "t-ali",
        "consumer": None,
    }
    document["customer_groups"] = {
        "g-1": {"id": "g-1", "name": "Avainasiakkaat", "integration_id": None, "archived": False}
    }
    document["fields"] = {
        "f-ala": {
            "id": "f-ala",
            "name": "Toimiala",
            "type": "dropdown",
            "archived": False,
            "options": [
                {"id": "o-1", "name": "Rakentaminen", "archived": False},
                {"id": "o-2", "name": "Kauppa", "archived": False},
            ],
            "shown_in_details_and_list": True,
            "mandatory": False,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
        "f-vip": {
            "id": "f-vip",
            "name": "VIP",
            "type": "checkbox",
            "archived": False,
            "options": [],
            "shown_in_details_and_list": True,
            "mandatory": False,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
        "f-alku": {
            "id": "f-alku",
            "name": "Asiakkuus alkaen",
            "type": "date",
            "archived": False,
            "options": [],
            "shown_in_details_and_list": True,
            "mandatory": True,
            "shown_in_reports": True,
            "hubspot_property_id": None,
        },
    }
    document["field_order"] = ["f-ala", "f-vip", "f-alku"]
    document.update(changes)
    return SettingsView(document)


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def rows_of(path: Path) -> tuple[list[Any], list[tuple[int, list[Any]]]]:
    sheet = open_sheet(path, path.name)
    return sheet.headers(), list(sheet.rows())


def test_windows_1252_semicolon_csv_with_finnish_characters(tmp_path):
    text = 'Nimi;Y-tunnus;Postitoimipaikka\r\n"Äänekosken Öljy Oy";0737546-2;Äänekoski\r\n'
    path = write(tmp_path, "asiakkaat.csv", text.encode("cp1252"))
    headers, rows = rows_of(path)
    assert headers == ["Nimi", "Y-tunnus", "Postitoimipaikka"]
    assert rows == [(2, ["Äänekosken Öljy Oy", "0737546-2", "Äänekoski"])]


def test_utf8_without_bom_comma_csv_with_a_line_break_inside_quotes(tmp_path):
    text = 'name,street address\n"Kahvila Sävel","Kauppakatu 1\nB 4"\n\n"Öö",""\n'
    path = write(tmp_path, "customers.csv", text.encode("utf-8"))
    headers, rows = rows_of(path)
    assert headers == ["name", "street address"]
    assert rows == [(2, ["Kahvila Sävel", "Kauppakatu 1\nB 4"]), (4, ["Öö", ""])]


def test_utf8_with_a_stray_byte_is_read_as_utf8_and_the_byte_reported(tmp_path):
    data = "Nimi;Postitoimipaikka\nÄänekoski Oy;Jyväskylä\nX Oy;Espoo ".encode() + b"\xa0\x96\n"
    sheet = open_sheet(write(tmp_path, "a.csv", data), "a.csv")
    rows = list(sheet.rows())
    assert rows[0] == (2, ["Äänekoski Oy", "Jyväskylä"])
    assert rows[1][1][1].startswith("Espoo \ufffd")
    checker = RowChecker(view(), "c1", columns(view()), lossy=sheet.lossy)
    row = checker.check(3, {"name": "X Oy", "city": rows[1][1][1], "field:f-alku": "1.3.2025"})
    assert [column for column, _ in row.errors] == ["city"]
    # A Windows-1252 file is still read as such: its letters are seldom UTF-8 by chance.
    text = "Nimi;Postitoimipaikka\nÄänekoski Oy;Jyväskylä\nÖljy Oy;Pori\n"
    sheet = open_sheet(write(tmp_path, "b.csv", text.encode("cp1252")), "b.csv")
    assert next(iter(sheet.rows())) == (2, ["Äänekoski Oy", "Jyväskylä"])
    assert not sheet.lossy  # every byte is a character: no cell needs looking at
    lossy = open_sheet(write(tmp_path, "c.csv", text.encode("cp1252") + b"X\x81;Y\n"), "c.csv")
    assert lossy.lossy


def test_utf8_whose_letters_come_after_a_megabyte_of_ascii_is_read_as_utf8(tmp_path):
    filler = "".join(f"Ascii {n} Oy;Lahti\n" for n in range(70_000)).encode()
    assert len(filler) > 1024 * 1024
    data = b"Nimi;Postitoimipaikka\n" + filler
    data += "Ääkkös Öljy Oy;Hämeenlinna\n".encode() + b"Stray \xe4 Oy;Lahti\n"
    sheet = open_sheet(write(tmp_path, "a.csv", data), "a.csv")
    assert (sheet.encoding, sheet.lossy) == ("utf-8", True)
    *_, letters, stray = sheet.rows()
    assert letters[1] == ["Ääkkös Öljy Oy", "Hämeenlinna"]
    assert stray[1][0] == "Stray \ufffd Oy"


def test_a_csv_row_with_values_past_the_header_is_reported(tmp_path):
    text = (
        "Nimi;Katuosoite;Postitoimipaikka\n"
        "Kivi Oy;Kauppakatu 1; B 5;Helsinki\n"  # the address's ; not in quotes
        'Puu Oy;"Kauppakatu 1; B 5";Helsinki\n'
        "Savi Oy;Kuja 2;Turku;;\n"  # empty cells past the header are nothing
    )
    sheet = open_sheet(write(tmp_path, "a.csv", text.encode()), "a.csv")
    rows = list(sheet.rows())
    assert [values for _, values in rows[1:]] == [
        ["Puu Oy", "Kauppakatu 1; B 5", "Helsinki"],
        ["Savi Oy", "Kuja 2", "Turku"],
    ]
    assert sheet.overflow(rows[0][1]) == (
        "the row has 4 cells, the header 3: a value with ; in it must be in quotes"
    )
    assert [sheet.overflow(values) for _, values in rows[1:]] == [None, None]


def test_utf8_with_bom(tmp_path):
    path = write(tmp_path, "a.csv", "\ufeffNimi;Laji\nÅke;kuluttaja\n".encode())
    headers, rows = rows_of(path)
    assert headers == ["Nimi", "Laji"]
    assert rows == [(2, ["Åke", "kuluttaja"])]


def test_xlsx_written_by_openpyxl_whatever_the_file_is_called(tmp_path):
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Nimi", "Asiakkuus alkaen", "Asiakasnumero"])
    sheet.append(["Öljy Oy", __import__("datetime").datetime(2025, 3, 1), 1001])
    buffer = io.BytesIO()
    workbook.save(buffer)
    path = write(tmp_path, "upload", buffer.getvalue())  # stored uploads have no extension
    sheet = open_sheet(path, "asiakkaat.xlsx")
    headers, rows = sheet.headers(), list(sheet.rows())
    assert headers == ["Nimi", "Asiakkuus alkaen", "Asiakasnumero"]
    assert rows[0][0] == 2 and rows[0][1][0] == "Öljy Oy" and rows[0][1][2] == 1001


def _every_kind_of_cell(tmp_path: Path) -> Path:
    import datetime

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    # Column A and row 2 are empty, and still counted.
    sheet["B1"], sheet["C1"], sheet["D1"], sheet["E1"] = "Nimi", "Numero", "Päivä", "Kyllä"
    sheet.append([])
    sheet.append([])
    sheet.append([None, "Öljy Oy", 123, datetime.datetime(2024, 5, 1), True])
    sheet.append([None, "Toinen", 12.5, datetime.date(2024, 5, 2), False])
    sheet.append([None, "  a  b  ", "00123", datetime.datetime(2024, 5, 1, 13, 30), "=1+1"])
    sheet.append([None, "rivi\nkaksi", 0, None, 1e20])
    sheet.append([None, None, None, None, None])
    sheet.append([None, "Viimeinen", -7, None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return write(tmp_path, "upload", buffer.getvalue())


def test_the_rows_of_a_file_are_estimated_before_it_is_read(tmp_path):
    """For progress while a file is checked: a CSV's lines, a workbook's recorded size."""
    cases = {
        "crlf.csv": b"Nimi\r\nA Oy\r\nB Oy\r\n",
        "no-last-newline.csv": b"Nimi\nA Oy\nB Oy",
        "cr.csv": b"Nimi\rA Oy\rB Oy\r",
        "header-only.csv": b"Nimi\r\n",
    }
    estimates = {}
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
        estimates[name] = open_sheet(tmp_path / name, name).estimated_rows()
    assert estimates == {"crlf.csv": 2, "no-last-newline.csv": 2, "cr.csv": 2, "header-only.csv": 0}
    workbook = Workbook()
    workbook.active.title = "Asiakkaat"
    for row in [["Nimi"], *([f"Asiakas {i}"] for i in range(50))]:
        workbook.active.append(row)
    workbook.create_sheet("Muuta").append(["x"] * 3)
    workbook.save(tmp_path / "a.xlsx")
    assert open_sheet(tmp_path / "a.xlsx", "a.xlsx").estimated_rows() == 50
    # A workbook that records no size (as openpyxl's write-only mode writes it): by the
    # number of its last row.
    streamed = Workbook(write_only=True)
    sheet = streamed.create_sheet("Asiakkaat")
    for row in [["Nimi"], *([f"Asiakas {i}"] for i in range(30_000))]:
        sheet.append(row)
    streamed.save(tmp_path / "b.xlsx")
    assert open_sheet(tmp_path / "b.xlsx", "b.xlsx").estimated_rows() == 30_000


def test_small_and_large_workbooks_read_the_same_values(tmp_path, monkeypatch):
    """Small workbooks are read with calamine, large ones with openpyxl's streaming reader:
    the importer sees the same rows and values either way."""
    from services.importer import reader

    path = _every_kind_of_cell(tmp_path)
    small = open_sheet(path, "a.xlsx")
    fast = (small.headers(), list(small.rows()))
    monkeypatch.setattr(reader, "CALAMINE_MAX_XML", 0)
    monkeypatch.setattr(
        reader, "_calamine_rows", lambda _: pytest.fail("a large workbook is streamed")
    )
    large = open_sheet(path, "a.xlsx")
    streamed = (large.headers(), list(large.rows()))

    assert fast == streamed
    headers, rows = fast
    assert headers == [None, "Nimi", "Numero", "Päivä", "Kyllä"]
    assert [number for number, _ in rows] == [4, 5, 6, 7, 9]
    assert rows[0][1][1:] == ["Öljy Oy", 123, __import__("datetime").datetime(2024, 5, 1), True]
    assert type(rows[0][1][2]) is int and rows[1][1][2] == 12.5
    assert rows[3][1][1:3] == ["rivi\nkaksi", 0]
    assert rows[4][1][1:3] == ["Viimeinen", -7]


def _workbook(tmp_path: Path, cells: dict[str, Any]) -> Path:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for reference, value in cells.items():
        sheet[reference] = value
    buffer = io.BytesIO()
    workbook.save(buffer)
    return write(tmp_path, "upload", buffer.getvalue())


def test_a_sheet_too_wide_or_long_to_hold_whole_is_streamed(tmp_path, monkeypatch):
    """calamine holds a sheet as a grid up to its farthest cell, however empty: a stray value
    far down or right would take gigabytes, so such a sheet is read row by row."""
    from services.importer import reader

    monkeypatch.setattr(reader, "CALAMINE_MAX_CELLS", 50)
    small = open_sheet(_workbook(tmp_path, {"A1": "Nimi", "A2": "Oy", "E10": "x"}), "a.xlsx")
    assert small.whole  # 10 rows by 5 columns
    monkeypatch.setattr(reader, "_calamine_rows", lambda _: pytest.fail("not read whole"))
    cells = {"A1": "Nimi", "K1": "Lisätieto", "A2": "Oy", "K10": "x", "Z90": "ei sarakkeessa"}
    sparse = open_sheet(_workbook(tmp_path, cells), "a.xlsx")
    assert not sparse.whole
    assert sparse.headers()[10] == "Lisätieto"
    # Read up to the last column with a header: a value beyond it is in no column.
    assert [(n, v[0], v[10], len(v)) for n, v in sparse.rows()] == [
        (2, "Oy", None, 11),
        (10, None, "x", 11),
    ]


def test_a_workbook_whose_cells_the_scan_cannot_read_is_streamed(tmp_path):
    """SpreadsheetML with a namespace prefix (`<x:c r="...">`, as some tools write it): the
    scan cannot bound its area, so it is not read whole."""
    path = _workbook(tmp_path, {"A1": "Nimi", "A2": "Oy"})
    prefixed = tmp_path / "prefixed.xlsx"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(prefixed, "w") as target:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename.startswith("xl/worksheets/"):
                data = data.replace(b"<sheetData", b"<x:sheetData").replace(
                    b"</sheetData", b"</x:sheetData"
                )
            target.writestr(item, data)
    from services.importer.reader import _calamine_can_hold

    with zipfile.ZipFile(prefixed) as archive:
        assert not _calamine_can_hold(archive)
    assert open_sheet(path, "a.xlsx").whole


def test_error_cells_keep_their_text_for_the_checks(tmp_path, monkeypatch):
    """calamine reads an error cell as empty; openpyxl gives its text, which the row's checks
    then report (a business id of `#N/A` is not silently left out)."""
    path = _workbook(tmp_path, {"A1": "Nimi", "B1": "Y-tunnus", "A2": "Oy", "B2": "#N/A"})
    sheet = open_sheet(path, "a.xlsx")
    assert not sheet.whole
    assert list(sheet.rows()) == [(2, ["Oy", "#N/A"])]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("photo.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "neither CSV nor"),
        ("protected.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "protected"),
        ("broken.xlsx", b"PK\x03\x04 this is not a zip file", "broken"),
    ],
)
def test_files_that_cannot_be_read_say_why(tmp_path, name, data, message):
    with pytest.raises(FileProblem) as raised:
        open_sheet(write(tmp_path, name, data), name)
    assert message in raised.value.message


def test_a_zip_that_is_not_a_workbook(tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(FileProblem) as raised:
        open_sheet(write(tmp_path, "a.xlsx", buffer.getvalue()), "a.xlsx")
    assert "not an Excel workbook" in raised.value.message


def test_headers_match_in_finnish_or_english_whatever_the_case_and_accents():
    known = columns(view())
    assert header_key("  Y-TUNNUS ") == header_key("y tunnus")
    mapping = map_headers(
        ["NIMI", "business id", "Asiakasryhma", "Toimiala", "Lempiväri", "asiakkuus ALKAEN"],
        known,
    )
    assert mapping.positions == {
        0: "name",
        1: "business_id",
        2: "group",
        3: "field:f-ala",
        5: "field:f-alku",
    }
    assert mapping.unknown == ["Lempiväri"]
    assert mapping.missing_required == []


def test_a_mapping_given_renames_and_leaves_out_columns():
    known = columns(view())
    mapping = map_headers(
        ["Yritys", "Muistiinpanot", "Alkoi"],
        known,
        {"Yritys": "Nimi", "Muistiinpanot": None, "Alkoi": "Asiakkuus alkaen"},
    )
    assert mapping.positions == {0: "name", 2: "field:f-alku"}
    assert mapping.unknown == []


def test_a_column_repeated_is_imported_once_and_the_other_reported():
    known = columns(view())
    mapping = map_headers(["Nimi", "Toimiala", "NIMI"], known)
    assert mapping.positions == {0: "name", 1: "field:f-ala"}
    assert (mapping.unknown, mapping.repeated) == (["NIMI"], {"NIMI": "Nimi"})
    given = map_headers(["Yritys", "Ala", "Nimi"], known, {"Yritys": "Nimi", "Ala": "Nimi"})
    assert given.positions == {0: "name"}
    assert given.repeated == {"Ala": "Yritys", "Nimi": "Yritys"}
    # The column the mapping names feeds its column, also after one of that name.
    chosen = map_headers(["Nimi", "Yritys"], known, {"Yritys": "Nimi"})
    assert (chosen.positions, chosen.unknown) == ({1: "name"}, ["Nimi"])
    assert chosen.repeated == {"Nimi": "Yritys"}
    # Two columns of one name: the report tells them apart by their letters.
    twice = map_headers(["Nimi", "Toimiala", "Lempiväri", "Toimiala"], known)
    assert twice.not_imported() == [
        ("Lempiväri", "this column is not a column of the import: map it or leave it out"),
        (
            "Toimiala",
            "the column 'Toimiala' (B) is imported as this already: this one (D) is not imported",
        ),
    ]


def test_a_mapping_naming_what_is_not_there_is_refused_with_its_reasons():
    known = columns(view())
    headers = ["Yritys", "Ala", "Muistiinpanot"]
    assert mapping_problems(headers, known, {"Yritys": "Nimi", "Muistiinpanot": None}) == []
    problems = mapping_problems(
        headers,
        known,
        {"Yritys": "Nimi", "Ala": "name", "Puuttuu": None, "Muistiinpanot": "Ei tällaista"},
    )
    assert [field for field, _ in problems] == ["mapping"] * 3
    messages = " | ".join(message for _, message in problems)
    assert "'Yritys' and 'Ala' are both mapped to 'name'" in messages
    assert "the file has no column 'Puuttuu'" in messages
    assert "'Ei tällaista' (for 'Muistiinpanot') is not a column of the import" in messages


def with_text_fields(*fields: tuple[str, str]) -> Any:
    """The test settings with more text fields, (id, name) each."""
    settings = view()
    document = settings.document
    for field_id, name in fields:
        document["fields"][field_id] = {
            **document["fields"]["f-vip"],
            "id": field_id,
            "name": name,
            "type": "text",
        }
        document["field_order"].append(field_id)
    return settings


def test_an_additional_field_named_like_a_standard_column_has_a_header_of_its_own():
    known = columns(with_text_fields(("f-tag", "Tunnisteet"), ("f-mail", "Email")))
    headers = [c.header for c in known]
    assert len(headers) == len(set(headers))
    assert "Tunnisteet (lisätieto)" in headers and "Email (lisätieto)" in headers
    mapping = map_headers(
        ["Nimi", "Tunnisteet", "tunnisteet (lisätieto)", "Email", "Email (lisätieto)"], known
    )
    assert list(mapping.positions.values()) == [
        "name",
        "tags",
        "field:f-tag",
        "contact_email",
        "field:f-mail",
    ]


def test_required_columns_missing_from_the_file_are_named():
    mapping = map_headers(["Y-tunnus"], columns(view()))
    assert [c.header for c in mapping.missing_required] == ["Nimi", "Asiakkuus alkaen"]


def test_every_error_of_a_row_at_once_with_its_column():
    checker = RowChecker(view(), "c1", columns(view()))
    row = checker.check(
        7,
        {
            "name": "",
            "kind": "kumppani",
            "business_id": "1234567-8",
            "type": "Tuntematon",
            "account_manager": "Matti",
            "contact_email": "ei-osoite",
            "field:f-vip": "ehkä",
        },
    )
    columns_with_errors = {column for column, _ in row.errors}
    assert columns_with_errors == {
        "name",
        "kind",
        "business_id",
        "type",
        "account_manager",
        "contact_email",
        "contact_name",
        "field:f-vip",
        "field:f-alku",
    }
    assert dict(row.errors)["type"] == (
        "no customer type named 'Tuntematon' (there are: Asiakas, Alihankkija)"
    )


def test_a_good_row_becomes_the_customer_the_customers_service_gets():
    checker = RowChecker(view(), "c1", columns(view()))
    row = checker.check(
        2,
        {
            "name": " Äänekosken  Öljy Oy ",
            "kind": "Alihankkija",
            "business_id": "0737546-2",
            "group": "avainasiakkaat",
            "account_manager": "maija meikäläinen",
            "tags": "öljy | kuljetus;öljy",
            "field:f-ala": "rakentaminen",
            "field:f-vip": "X",
            "field:f-alku": "1.3.2025",
            "contact_name": "Pekka",
            "contact_email": "pekka@oljy.fi",
        },
    )
    assert row.errors == []
    customer = row.customer
    assert customer["name"] == "Äänekosken Öljy Oy"
    assert customer["kind"] == "subcontractor"
    assert customer["relationship"]["type_id"] == "t-ali"
    assert customer["relationship"]["group_id"] == "g-1"
    assert customer["relationship"]["account_manager_id"] == "maija"
    assert customer["relationship"]["tags"] == ["öljy", "kuljetus"]
    assert customer["fields"] == {"f-ala": "o-1", "f-vip": True, "f-alku": "2025-03-01"}
    assert customer["contact"]["email"] == "pekka@oljy.fi"


def test_a_name_is_the_group_of_that_name_before_one_that_differs_only_by_accents():
    settings = view()
    document = settings.document
    group = {"integration_id": None, "archived": False}
    document["customer_groups"] = {
        "g-a": {"id": "g-a", "name": "Saatio", **group},
        "g-b": {"id": "g-b", "name": "Säätiö", **group},
        "g-c": {"id": "g-c", "name": "Yhdistys ry", **group},
    }
    checker = RowChecker(settings, "c1", columns(settings))

    def group_of(name: str) -> tuple[Any, list[Any]]:
        row = checker.check(2, {"name": "S Oy", "group": name, "field:f-alku": "1.3.2025"})
        return row.customer["relationship"].get("group_id"), row.errors

    assert group_of("SÄÄTIÖ") == ("g-b", [])
    assert group_of("saatio") == ("g-a", [])
    assert group_of("yhdistys  RY") == ("g-c", [])
    assert group_of("Yhdistys-ry") == ("g-c", [])  # the only one as near
    _, errors = group_of("Saätio")  # as near to both: neither is taken
    assert [column for column, _ in errors] == ["group"]


def test_a_cell_whose_formula_failed_is_an_error_of_its_column():
    checker = RowChecker(view(), "c1", columns(view()))
    row = checker.check(2, {"name": "#DIV/0!", "business_id": "#N/A", "field:f-alku": "1.3.2025"})
    assert ("name", "the cell holds the spreadsheet error #DIV/0!") in row.errors
    assert ("business_id", "the cell holds the spreadsheet error #N/A") in row.errors
    assert row.customer.get("business_id") is None


def test_an_error_of_a_tag_names_the_tags_column():
    checker = RowChecker(view(), "c1", columns(view()))
    row = checker.check(
        2,
        {
            "name": "T Oy",
            "tags": "lyhyt;" + "x" * 300 + ";" + "y" * 300,
            "field:f-alku": "1.3.2025",
        },
    )
    assert [column for column, _ in row.errors] == ["tags"]  # the same error once
    assert checker.header("tags") == "Tunnisteet"


def test_manual_numbering_requires_a_number():
    settings = view(numbering={"mode": "manual", "next_number": 1})
    checker = RowChecker(settings, "c1", columns(settings))
    row = checker.check(3, {"name": "A", "field:f-alku": "2025-01-01"})
    assert row.errors == [("number", "is required: the customer numbers are given by hand")]


def test_a_finnish_postal_code_that_lost_its_leading_zeros_gets_them_back():
    checker = RowChecker(view(), "c1", columns(view()))
    base = {"name": "Oy", "field:f-alku": "1.3.2025"}

    def postal_code(**values: Any) -> Any:
        row = checker.check(2, {**base, **values})
        assert row.errors == []
        return row.customer["address"]["postal_code"]

    assert postal_code(postal_code=100) == "00100"  # a number cell of a workbook
    assert postal_code(postal_code="2100", country="Suomi") == "02100"
    assert postal_code(postal_code="33100") == "33100"
    assert postal_code(postal_code="1010", country="Itävalta") == "1010"


def test_a_finnish_phone_number_that_lost_its_first_character_gets_it_back():
    checker = RowChecker(view(), "c1", columns(view()))
    base = {"name": "Oy", "field:f-alku": "1.3.2025", "contact_name": "Pekka"}

    def phone(**values: Any) -> Any:
        row = checker.check(2, {**base, **values})
        assert row.errors == []
        return row.customer["contact"]["phone"]

    # Number cells of a workbook: the 0 of a national number, the + of an international one.
    assert phone(contact_phone=401234567) == "0401234567"
    assert phone(contact_phone=358401234567.0, country="Suomi") == "+358401234567"
    # Text is as written; a number cell of an address abroad is not guessed at.
    assert phone(contact_phone="040 123 4567") == "040 123 4567"
    assert phone(contact_phone=4512345678, country="Tanska") == "4512345678"


def test_a_contact_persons_email_without_their_name_says_what_is_missing():
    checker = RowChecker(view(), "c1", columns(view()))
    row = checker.check(
        2, {"name": "Oy", "field:f-alku": "1.3.2025", "contact_email": "pekka@example.fi"}
    )
    assert row.errors == [
        ("contact_name", "is required when the contact person's email or phone is given")
    ]


def test_the_templates_have_every_column_and_explain_them(tmp_path):
    settings = view()
    csv_text = template_csv(settings).decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Nimi;Laji;Asiakasnumero;Y-tunnus")
    assert csv_text.splitlines()[0].endswith("Toimiala;VIP;Asiakkuus alkaen")
    path = write(tmp_path, "pohja.xlsx", template_xlsx(settings))
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Asiakkaat", "Ohjeet"]
    guide = {row[0]: row for row in workbook["Ohjeet"].iter_rows(min_row=2, values_only=True)}
    assert guide["Nimi"][1] == "kyllä"
    assert guide["Toimiala"][3] == "Rakentaminen; Kauppa"
    assert guide["Asiakastyyppi"][3] == "Asiakas; Alihankkija"
    assert guide["Asiakkuus alkaen"][1] == "kyllä"
    # Below the columns: how rows are matched and updated (a blank cell clears nothing).
    assert guide["Rivit ja päivitys"] == ("Rivit ja päivitys", None, None, None, None)
    assert any(str(key).startswith("Päivitettäessä tyhjä solu") for key in guide)
    # Columns of numbers that are text (postal codes, phones) are typed into as text.
    customers = workbook["Asiakkaat"]
    formats = {
        cell.value: customers.column_dimensions[cell.column_letter].number_format
        for cell in customers[1]
    }
    assert formats["Postinumero"] == formats["Yhteyshenkilön puhelin"] == "@"
    assert formats["Asiakasnumero"] == formats["Y-tunnus"] == "@"
    assert formats["Nimi"] == "General"
    # The template reads back as an import file with every column recognised.
    sheet = open_sheet(path, "pohja.xlsx")
    mapping = map_headers(sheet.headers(), columns(settings))
    assert mapping.unknown == [] and len(mapping.positions) == len(columns(settings))


def test_sub_units_go_after_their_parents_level_by_level(tmp_path):
    from services.importer.rowindex import Hierarchy, RowIndex

    # row 2: number 100; row 3: parent 100; row 4: parent of row 3's number; rows 5 and 6:
    # a loop; row 7: a parent no row gives.
    index = RowIndex(tmp_path / "index.sqlite")
    numbers = {2: "100", 3: "200", 4: "300", 5: "400", 6: "500"}
    parents = {3: "100", 4: "200", 5: "500", 6: "400", 7: "999"}
    keys = [
        (row, None, numbers.get(row), parents.get(row), numbers.get(row), None)
        for row in range(2, 8)
    ]
    index.add(keys)
    hierarchy = Hierarchy()
    outside = []
    for row, parent, parent_row in index.parents():
        if parent_row is None:
            outside.append((row, parent))
        else:
            hierarchy.link(row, parent_row)
    assert outside == [(7, "999")]
    levels = hierarchy.levels()
    assert [levels[row] for row in range(2, 7)] == [0, 1, 2, 1, 1]
    assert hierarchy.ancestors(4) == ([3, 2], None)
    assert hierarchy.ancestors(5) == ([6], 5)  # the walk came back to row 5: a loop
    index.close()
    assert not (tmp_path / "index.sqlite").exists()


def test_the_check_finds_repeated_business_ids_and_numbers_across_chunks(tmp_path):
    from services.importer.rowindex import RowIndex

    index = RowIndex(tmp_path / "index.sqlite")
    first = [
        (2, "0737546-2", "100", None, "100", None),
        (3, None, "a1", None, "A1", None),
        (6, None, None, None, None, "values:x"),
    ]
    assert index.add(first) == []
    repeated = index.add(
        [
            (4, "0737546-2", "a1", None, "a1", None),
            (5, None, "a1", None, "A1", None),
            (7, None, None, None, None, "values:x"),
        ]
    )
    assert repeated == [
        (4, "business_id", 2),
        (4, "number", 3),
        (5, "number", 3),
        (7, "identity", 6),
    ]
    assert list(index.numbered()) == [2, 3, 4, 5]
    assert [row for chunk in index.keyed("identity") for row, *_ in chunk] == [6, 7]
    # A number is found case-insensitively; the row's own spelling is kept for messages.
    assert [chunk for chunk in index.keyed("number")] == [
        [
            (2, "100", "100", "100", "0737546-2"),
            (3, "a1", "a1", "A1", None),
            (4, "a1", "a1", "a1", "0737546-2"),
            (5, "a1", "a1", "A1", None),
        ]
    ]
    index.close()


def test_a_failure_of_the_scratch_file_fails_the_job_not_the_store(tmp_path):
    """A full disk is the job's files' failure: the job fails with it, instead of waiting for
    the store as if the database were down."""
    import pytest

    from services.importer.application import STORE_ERRORS
    from services.importer.rowindex import Hierarchy, RowIndex, ScratchFileError

    index = RowIndex(tmp_path / "index.sqlite")
    index.db.close()
    with pytest.raises(ScratchFileError) as raised:
        index.reserved_after(0, 0, 1)
    assert isinstance(raised.value, OSError) and not isinstance(raised.value, STORE_ERRORS)
    with pytest.raises(ScratchFileError):
        list(index.numbered())
    index.close()
    assert not (tmp_path / "index.sqlite").exists()
    hierarchy = Hierarchy()
    hierarchy.link(10, 3)
    assert len(hierarchy.levels()) == 11  # a slot per row up to the largest, no more


def test_a_row_set_keeps_row_numbers_in_order():
    from services.importer.rowindex import RowSet

    rows = RowSet([7, 2, 100_000, 2])
    assert len(rows) == 3 and list(rows) == [2, 7, 100_000]
    assert 7 in rows and 8 not in rows and -1 not in rows and 10**9 not in rows
    rows.discard(7)
    rows.discard(8)
    assert list(rows) == [2, 100_000] and len(rows) == 2 and rows == {2, 100_000}


def test_a_batch_leaves_the_numbers_of_later_batches_nearest_first(tmp_path):
    from services.importer.application import _automatic
    from services.importer.rowindex import RowIndex

    # Automatic numbering gives plain digits without leading zeros only.
    assert [_automatic(n) for n in ("5", "0007", "x9", "²", "", None)] == [True] + [False] * 5
    index = RowIndex(tmp_path / "index.sqlite")
    assert index.reserve([(1, 0, 9, "30"), (0, 2, 7, "20"), (0, 1, 5, "10"), (1, 3, 11, "40")])
    assert index.reserved_after(0, 1, 10) == ["20", "30", "40"]  # not its own batch's
    assert index.reserved_after(1, 3, 10) == []
    assert index.reserved_after(0, 0, 2) == ["10", "20"]  # asked out of order: again
    # Batch after batch, the window moves along.
    windows = [index.reserved_after(*key, 2) for key in ((0, 1), (0, 2), (1, 0), (1, 3))]
    assert windows == [["20", "30"], ["30", "40"], ["40"], []]
    index.close()


def test_only_one_row_updates_a_customer_and_not_one_whose_number_is_taken():
    from services.importer.application import _match_errors

    finds = [
        (2, "a", "business_id", "100"),  # its number is another customer's: it fails
        (5, "a", "number", None),  # so this row updates customer a
        (7, "a", "business_id", None),
        (3, "b", "number", None),
    ]
    assert list(_match_errors(finds)) == [
        (2, "number", "the number 100 is another customer's"),
        (7, "business_id", "the same customer as row 5, which updates it"),
    ]


def test_fields_whose_names_differ_only_by_accents_are_each_found_by_their_own_spelling():
    known = columns(with_text_fields(("f-paa", "Päätös"), ("f-pa", "Paatos")))
    mapping = map_headers(["Nimi", "Paatos", "PÄÄTÖS"], known)
    assert mapping.positions == {0: "name", 1: "field:f-pa", 2: "field:f-paa"}
    assert mapping.unknown == []
    # Written some third way, the name could be either: not guessed.
    assert map_headers(["Nimi", "Päatos"], known).unknown == ["Päatos"]
    # A mapping names its column by its spelling too.
    given = map_headers(["Nimi", "Päätös", "Paatos"], known, {"Paatos": "field:f-paa"})
    assert given.positions == {0: "name", 2: "field:f-paa"}
    assert given.unknown == ["Päätös"] and given.repeated == {"Päätös": "Paatos"}


def test_a_stray_quote_fails_the_file_naming_its_line_instead_of_losing_rows(tmp_path):
    """A quote opened by mistake takes the lines up to the next quote in as one value: the
    rows there would be lost, so the file fails, naming the line the quote is on."""
    text = 'Nimi;Y-tunnus\nEka Oy;9700000-6\n"Toka Oy;9700001-4\nKolmas Oy;9700002-2\nNeljäs Oy;\n'
    with pytest.raises(FileProblem) as raised:
        rows_of(write(tmp_path, "lainaus.csv", text.encode()))
    assert raised.value.errors == [
        (
            "file",
            'line 3: a quote (") opens a value that takes in the lines up to line 5 as if they '
            "were one cell; remove or close it",
        )
    ]
    # In a large file the value outgrows the reader's limit first: the line is named too.
    rows = "".join(f"Asiakas {n} Oy;Lahti\n" for n in range(10_000))
    big = "Nimi;Postitoimipaikka\nEka Oy;Lahti\n" + '"Iso Oy;Lahti\n' + rows
    with pytest.raises(FileProblem) as raised:
        rows_of(write(tmp_path, "iso.csv", big.encode()))
    ((column, message),) = raised.value.errors
    assert column == "file"
    assert message.startswith("the CSV cannot be read from line 3 on: field larger")
    assert 'a quote (") there may open a value that is never closed' in message
    # A value over lines without a row's delimiters in them is a value, as a quote meant.
    text = 'Nimi,Katuosoite,Postitoimipaikka\n"Kivi Oy","Kauppakatu 1,\nB 4",Pori\n'
    assert rows_of(write(tmp_path, "osoite.csv", text.encode()))[1] == [
        (2, ["Kivi Oy", "Kauppakatu 1,\nB 4", "Pori"])
    ]


@pytest.mark.parametrize("whole", [True, False])
def test_a_workbook_is_read_from_its_first_visible_sheet(tmp_path, monkeypatch, whole):
    """A hidden sheet (an old version kept out of sight, say) is not what the user sees: the
    first visible one is imported, read whole or streamed, and its rows are estimated."""
    from services.importer import reader

    if not whole:
        monkeypatch.setattr(reader, "CALAMINE_MAX_XML", 0)
    workbook = Workbook()
    old = workbook.active
    old.title, old.sheet_state = "Vanha", "hidden"
    old.append(["Nimi", "Y-tunnus"])
    for index in range(10):
        old.append([f"Vanha {index} Oy", None])
    shown = workbook.create_sheet("Asiakkaat")
    shown.append(["Nimi", "Y-tunnus"])
    shown.append(["Näkyvä Oy", "0737546-2"])
    workbook.active = 1
    path = tmp_path / "piilotettu.xlsx"
    workbook.save(path)
    sheet = open_sheet(path, path.name)
    assert sheet.whole is whole
    assert (sheet.headers(), list(sheet.rows())) == (
        ["Nimi", "Y-tunnus"],
        [(2, ["Näkyvä Oy", "0737546-2"])],
    )
    assert sheet.estimated_rows() == 1


def test_a_date_cell_in_a_text_column_reads_as_a_finnish_date_with_its_time():
    """As a spreadsheet shows it, not as ISO; a time of day is kept (in a date field only the
    day counts)."""
    import datetime

    settings = with_text_fields(("f-note", "Muistiinpano"))
    checker = RowChecker(settings, "c1", columns(settings))
    row = checker.check(
        2,
        {
            "name": "Päivä Oy",
            "team": datetime.datetime(2026, 11, 27),
            "field:f-note": datetime.datetime(2026, 1, 2, 9, 5),
            "field:f-alku": datetime.datetime(2025, 3, 1, 8, 0),
        },
    )
    assert row.errors == []
    assert row.customer["relationship"]["team"] == "27.11.2026"
    assert row.customer["fields"]["f-note"] == "2.1.2026 9.05"
    assert row.customer["fields"]["f-alku"] == "2025-03-01"


def test_a_value_the_export_neutralised_against_formulas_imports_as_it_was():
    checker = RowChecker(view(), "c1", columns(view()))
    row = checker.check(
        2, {"name": "'=Yhtiö", "tags": "'+vip; avain", "team": "'Oma", "field:f-alku": "1.3.2025"}
    )
    assert row.errors == []
    assert row.customer["name"] == "=Yhtiö"
    assert row.customer["relationship"]["tags"] == ["+vip", "avain"]
    assert row.customer["relationship"]["team"] == "'Oma"  # an apostrophe of its own is kept


def test_every_value_the_export_neutralises_reads_back_as_it_was():
    from hypothesis import given
    from hypothesis import strategies as st

    from psa.spreadsheet import export_cell
    from services.importer.validation import _text

    @given(st.text(alphabet=st.sampled_from("'=+-@\t\r aÄ1;"), max_size=8) | st.text())
    def round_trip(value: str) -> None:
        assert _text(export_cell(value)) == value.strip()

    round_trip()


def test_a_multiselect_option_with_a_separator_in_its_name_is_one_option():
    from services.importer.validation import _split_options

    spec = {"options": [{"name": "Rakentaminen; talo"}, {"name": "Kauppa"}, {"name": "A|B"}]}
    assert _split_options(spec, "Rakentaminen; talo; Kauppa") == ["Rakentaminen; talo", "Kauppa"]
    assert _split_options(spec, "kauppa | a|b ; Muu") == ["kauppa", "a|b", "Muu"]
    assert _split_options({"options": [{"name": "X"}]}, "X;Y") == ["X", "Y"]


def test_the_error_report_keeps_a_message_that_starts_with_a_quote_as_it_is():
    from psa.spreadsheet import export_cell, neutralize

    assert neutralize("'firma' is not yritys") == "'firma' is not yritys"
    assert neutralize("-1") == "'-1" and export_cell("'Oy") == "''Oy"
