"""The columns of an import file: the standard ones, one per additional field, their Finnish
headers (what the template writes) and the English ones accepted on upload."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from psa.customer_rules.settings_view import SettingsView


@dataclass(frozen=True)
class Column:
    key: str  # what the row's value becomes: a standard key or `field:<id>`
    header: str  # Finnish, as the template writes it
    english: tuple[str, ...]  # other names accepted on upload
    required: bool
    format: str  # for people: what a value looks like
    allowed: tuple[str, ...] = ()  # the allowed values, where there is a list


def _standard(view: SettingsView) -> list[Column]:
    document = view.document
    active = lambda items: tuple(  # noqa: E731 - a one-line helper
        i["name"] for i in items.values() if not i.get("archived")
    )
    manual = view.numbering_mode == "manual"
    group_required = bool(view.multi_company["customer_group_mandatory"])
    return [
        Column("name", "Nimi", ("name", "customer name", "asiakkaan nimi"), True, "teksti"),
        Column(
            "kind",
            "Laji",
            ("kind",),
            False,
            "yritys, alihankkija tai kuluttaja (oletus: yritys)",
            ("yritys", "alihankkija", "kuluttaja"),
        ),
        Column(
            "number",
            "Asiakasnumero",
            ("number", "customer number"),
            manual,
            "pakollinen: numerot annetaan käsin"
            if manual
            else "tyhjä: seuraava vapaa numero annetaan automaattisesti",
        ),
        Column("business_id", "Y-tunnus", ("business id", "business_id"), False, "1234567-8"),
        Column(
            "type",
            "Asiakastyyppi",
            ("customer type", "type"),
            False,
            "tyypin nimi (tyhjä: lajin oletustyyppi)",
            active(document["customer_types"]),
        ),
        Column(
            "group",
            "Asiakasryhmä",
            ("customer group", "group"),
            group_required,
            "ryhmän nimi",
            active(document["customer_groups"]),
        ),
        Column(
            "company_group",
            "Yritysryhmä",
            ("company group",),
            False,
            "yritysryhmän nimi",
            active(document["company_groups"]),
        ),
        Column(
            "parent_number",
            "Pääyksikön asiakasnumero",
            ("parent number", "parent customer number"),
            False,
            "pääyksikön asiakasnumero (tiedostossa tai rekisterissä)",
        ),
        Column("street", "Katuosoite", ("street", "street address", "address"), False, "teksti"),
        Column("postal_code", "Postinumero", ("postal code", "zip"), False, "teksti"),
        Column("city", "Postitoimipaikka", ("city", "kaupunki"), False, "teksti"),
        Column("country", "Maa", ("country",), False, "teksti"),
        Column(
            "account_manager",
            "Asiakasvastaava",
            ("account manager",),
            False,
            "käyttäjän nimi tai tunnus",
        ),
        Column("team", "Tiimi", ("team",), False, "teksti"),
        Column("customer_team", "Asiakastiimi", ("customer team",), False, "teksti"),
        Column("tags", "Tunnisteet", ("tags",), False, "tunnisteet eroteltuina ; tai |"),
        Column(
            "contact_name", "Yhteyshenkilö", ("contact person", "contact name"), False, "teksti"
        ),
        Column(
            "contact_email",
            "Yhteyshenkilön sähköposti",
            ("contact email", "email"),
            False,
            "nimi@esimerkki.fi",
        ),
        Column(
            "contact_phone", "Yhteyshenkilön puhelin", ("contact phone", "phone"), False, "teksti"
        ),
    ]


FIELD_FORMATS = {
    "text": "teksti",
    "textarea": "teksti (monta riviä)",
    "dropdown": "yksi vaihtoehdoista",
    "multiselect": "vaihtoehtoja eroteltuina ; tai |",
    "date": "päivämäärä 27.11.2026 tai 2026-11-27",
    "checkbox": "kyllä/ei, yes/no, x, 1/0, true/false",
    "link": "linkki, joka alkaa http:// tai https://",
}


def columns(view: SettingsView) -> list[Column]:
    """Every column of the tenant's import file, in the template's order."""
    result = _standard(view)
    for field in view.fields_in_order():
        if field.get("archived"):
            continue
        result.append(
            Column(
                f"field:{field['id']}",
                field["name"],
                (),
                bool(field["mandatory"]),
                FIELD_FORMATS.get(field["type"], "teksti"),
                tuple(o["name"] for o in field["options"] if not o["archived"]),
            )
        )
    return result


def header_key(header: Any) -> str:
    """A header as compared: accents, case, punctuation and spacing do not matter."""
    text = unicodedata.normalize("NFKD", str(header or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).replace("_", " ").split())


@dataclass(frozen=True)
class Mapping:
    """Which file column (by position) feeds which column key; what was not recognised."""

    positions: dict[int, str]
    unknown: list[str]
    missing_required: list[Column]


def map_headers(
    headers: list[Any], known: list[Column], given: dict[str, str | None] | None = None
) -> Mapping:
    """Match the file's headers to columns: by the mapping given (a header to a column key,
    Finnish or English header; nothing to leave it out), else by name, Finnish or English."""
    names: dict[str, str] = {}
    for column in known:
        for name in (column.header, column.key, *column.english):
            names.setdefault(header_key(name), column.key)
    wanted = {header_key(k): v for k, v in (given or {}).items()}
    positions: dict[int, str] = {}
    unknown: list[str] = []
    for position, header in enumerate(headers):
        label = str(header or "").strip()
        if not label:
            continue
        key = header_key(label)
        if key in wanted:
            target = wanted[key]
            if target is None or target == "":
                continue  # mapped to nothing: not imported
            resolved = names.get(header_key(target))
            if resolved is None:
                unknown.append(label)
                continue
            positions[position] = resolved
        elif key in names:
            positions[position] = names[key]
        else:
            unknown.append(label)
    present = set(positions.values())
    missing = [c for c in known if c.required and c.key not in present]
    return Mapping(positions, unknown, missing)
