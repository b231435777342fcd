"""The import's row messages in Finnish (`services/importer/finnish.py`)."""

from __future__ import annotations

import pytest

from psa.customer_rules.rules import check_field_value, imported_before, number_of_another
from services.importer.application import DEAD_BATCH
from services.importer.finnish import in_finnish, translated
from services.importer.validation import same_row

CASES = [
    ("is required", "on pakollinen"),
    ("Asiakkuus alkaen is mandatory", "Asiakkuus alkaen on pakollinen"),
    ("a customer group is mandatory", "asiakasryhmä on pakollinen"),
    ("the same business id as row 2", "sama Y-tunnus kuin rivillä 2"),
    ("the same customer number as row 12", "sama asiakasnumero kuin rivillä 12"),
    (
        "a customer with this number exists already: it would be updated",
        "asiakas, jolla on tämä asiakasnumero, on jo olemassa: se päivitettäisiin",
    ),
    (
        "skipped: a customer with this business id exists already",
        "ohitettu: asiakas, jolla on tämä Y-tunnus, on jo olemassa",
    ),
    (
        "the parent (row 4) is not imported: skipped: a customer with this number exists already",
        "pääyksikköä (rivi 4) ei tuoda: ohitettu: asiakas, jolla on tämä asiakasnumero, on jo "
        "olemassa",
    ),
    (
        "a parent above this row (row 2) is not imported: it has errors",
        "ylempää pääyksikköä (rivi 2) ei tuoda: siinä on virheitä",
    ),
    (
        "no customer group named 'Isot: a' (there are: Pienet, Keski: kokoiset)",
        "asiakasryhmää 'Isot: a' ei ole (valittavissa: Pienet, Keski: kokoiset)",
    ),
    (
        "Koko: 'XL' is not an option (options: S, M)",
        "Koko: 'XL' ei ole vaihtoehto (valittavissa: S, M)",
    ),
    ("Uutiskirje: 'ehkä' is not kyllä/ei", "Uutiskirje: 'ehkä' ei ole kyllä/ei"),
    (
        "the row has 5 cells, the header 3: a value with a tab in it must be in quotes",
        "rivillä on 5 solua, otsikkorivillä 3: arvon, jossa on sarkain, pitää olla "
        "lainausmerkeissä",
    ),
    (
        "the column 'Nimi' (A) is imported as this already: this one (C) is not imported",
        "sarake 'Nimi' (A) tuodaan jo tähän: tätä saraketta (C) ei tuoda",
    ),
    (
        'line 3: a quote (") opens a value that takes in the lines up to line 9 as if they '
        "were one cell; remove or close it",
        'rivi 3: lainausmerkki (") aloittaa arvon, joka ottaa mukaansa rivit riville 9 asti '
        "ikään kuin ne olisivat yksi solu; poista se tai sulje arvo",
    ),
    ("the workbook is broken: Bad CRC-32", "työkirja on rikki: Bad CRC-32"),
    ("the number 7 is taken", "asiakasnumero 7 on jo käytössä"),
    (
        "no customer group named 'Isot' (there are none)",
        "asiakasryhmää 'Isot' ei ole (asiakasryhmiä ei ole vielä perustettu)",
    ),
    (
        "Koko: 'XL' is not an option (no options)",
        "Koko: 'XL' ei ole vaihtoehto (vaihtoehtoja ei ole)",
    ),
]


@pytest.mark.parametrize(("english", "finnish"), CASES)
def test_a_message_in_finnish(english: str, finnish: str) -> None:
    assert in_finnish(english) == finnish


def test_messages_made_by_the_checks_have_their_finnish_form() -> None:
    made = [same_row(3), imported_before("1001"), number_of_another("5", "0737546-2"), DEAD_BATCH]
    for field, value in (
        ({"type": "date"}, "huomenna"),
        ({"type": "link"}, "ftp://x"),
        ({"type": "link"}, "http://a b"),
        ({"type": "checkbox"}, "ehkä"),
        ({"type": "text"}, "x" * 5000),
        ({"type": "dropdown", "options": [{"id": "1", "name": "S", "archived": False}]}, "XL"),
    ):
        try:
            check_field_value(field, value, None)
        except ValueError as error:
            made.append(f"Koko: {error}")
    assert len(made) == 10
    for message in made:
        assert translated(message) is not None, message


def test_a_message_without_a_finnish_form_stays_in_english() -> None:
    assert translated("something new went wrong") is None
    assert in_finnish("something new went wrong") == "something new went wrong"
    # A reason after a colon that has no Finnish form does not make a half translation.
    assert translated("the parent (row 2) is not imported: something new") is None


def test_why_a_job_failed_in_finnish() -> None:
    for failed in (1, 12):
        rows = "1 row has errors" if failed == 1 else f"{failed} rows have errors"
        correct = "correct it" if failed == 1 else "correct them"
        problem = (
            f"{rows}, so nothing was imported: {correct}, or import with skip_errors to import "
            "the other rows"
        )
        assert in_finnish(problem).startswith(f"{failed} rivillä on virheitä")
    assert in_finnish("required columns are missing: Nimi") == "pakollisia sarakkeita puuttuu: Nimi"


def test_an_unclosed_quote_in_a_long_csv_is_reported_wholly_in_finnish(tmp_path) -> None:
    from services.importer.reader import FileProblem, open_sheet

    lines = ["Nimi;Y-tunnus", '"Auki Oy;0737546-2']
    lines += [f"Asiakas {i} Oy;{i}" for i in range(12000)]
    path = tmp_path / "upload"
    path.write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    with pytest.raises(FileProblem) as raised:
        for _ in open_sheet(path, "asiakkaat.csv").rows():
            pass
    finnish = in_finnish(raised.value.message)
    assert "quote" not in finnish and "field larger" not in finnish, finnish
    assert "lainausmerkki" in finnish


@pytest.mark.parametrize(
    "problem",
    [
        "the file has no rows under its header",
        "the tenant's settings have not reached the importer yet",
    ],
)
def test_every_problem_a_job_can_end_with_has_its_finnish_form(problem: str) -> None:
    assert translated(problem) is not None


def test_wording() -> None:
    assert "asiakaspalvelu" not in in_finnish(DEAD_BATCH)  # a service desk, not the service
    rule = "may have letters, digits and - . / only, starting with a letter or digit"
    assert "pitää alkaa kirjaimella tai numerolla" in in_finnish(rule)
