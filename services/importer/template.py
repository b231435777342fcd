"""The import template, made from the tenant's current settings: the standard columns and one
per additional field, with Finnish headers. The XLSX has a second sheet that tells, for each
column, whether it is required, what a value looks like and which values are allowed."""

from __future__ import annotations

import io
from typing import Any

from psa.customer_rules.settings_view import SettingsView

from .columns import Column, columns
from .reader import csv_bytes

# Columns whose values look like numbers but are text.
TEXT_COLUMNS = {"number", "business_id", "parent_number", "postal_code", "contact_phone"}
INSTRUCTIONS = ("Sarake", "Pakollinen", "Muoto", "Sallitut arvot", "Englanniksi")


# How the rows are read, below the columns of the "Ohjeet" sheet.
NOTES = (
    "Rivit ja päivitys",
    "Otsikkorivi on rivi 1; sarakkeiden järjestyksellä ei ole väliä, ja otsikot voivat olla "
    "suomeksi tai englanniksi. Sarake, jota tuonti ei tunne, raportoidaan eikä sitä tuoda.",
    "Asiakas tunnistetaan Y-tunnuksesta tai, jos sitä ei ole, asiakasnumerosta. Jo "
    "rekisterissä oleva asiakas ohitetaan, tai valinnalla update_existing (päivitä olemassa "
    "olevat) päivitetään.",
    "Päivitettäessä tyhjä solu jättää asiakkaan arvon ennalleen: tuonti ei tyhjennä arvoja. "
    "Päivitystiedostossa voi olla vain tunniste ja muuttuvat sarakkeet, esim. "
    "Y-tunnus;Katuosoite.",
    "Rivi, jolla ei ole Y-tunnusta eikä asiakasnumeroa, tunnistetaan arvoistaan: samana "
    "uudelleen tuotuna se ohitetaan, muutettuna se luo uuden asiakkaan (koeajo kertoo, jos "
    "samanniminen asiakas on jo rekisterissä). Päivitä tällainen asiakas antamalla rivillä "
    "sen asiakasnumero.",
    "Alayksikön rivillä on pääyksikön asiakasnumero; pääyksikkö voi olla tiedostossa (myös "
    "myöhemmällä rivillä) tai jo rekisterissä.",
    "Monivalinnan arvot ja tunnisteet erotetaan merkillä ; tai |. Päivämäärät muodossa "
    "27.11.2026 tai 2026-11-27; valintaruutu kyllä/ei.",
)


def instruction_rows(known: list[Column]) -> list[list[Any]]:
    return [
        [
            column.header,
            "kyllä" if column.required else "ei",
            column.format,
            "; ".join(column.allowed),
            column.english[0] if column.english else "",
        ]
        for column in known
    ]


def template_csv(view: SettingsView) -> bytes:
    """Headers only, UTF-8 with a BOM and `;`, as spreadsheets in Finland open it."""
    return csv_bytes([[c.header for c in columns(view)]])


def template_xlsx(view: SettingsView) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    known = columns(view)
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Asiakkaat"
    sheet.append([c.header for c in known])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for index, column in enumerate(known, start=1):
        dimension = sheet.column_dimensions[sheet.cell(1, index).column_letter]
        dimension.width = max(12, len(column.header) + 2)
        if column.key in TEXT_COLUMNS:
            # Typed into as text: a spreadsheet keeps the leading zeros of 00100 or 040 123.
            dimension.number_format = "@"
    sheet.freeze_panes = "A2"
    guide = workbook.create_sheet("Ohjeet")
    guide.append(list(INSTRUCTIONS))
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for row in instruction_rows(known):
        guide.append(row)
    guide.append([])
    guide.append([NOTES[0]])
    guide.cell(guide.max_row, 1).font = Font(bold=True)
    for note in NOTES[1:]:
        guide.append([note])
    for letter, width in zip("ABCDE", (30, 12, 50, 60, 25), strict=True):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
