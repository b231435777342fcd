"""The columns of a customer register as a file: the standard ones and one per additional
field, with their Finnish headers (what the import template and the customer export write)
and the English names an import accepts. The export writes the import's headers and values,
so that an exported register can be edited and imported back."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from .settings_view import SettingsView

# A kind as the template and the export write it (the import also takes the English ones).
KIND_NAMES = {"company": "yritys", "subcontractor": "alihankkija", "consumer": "kuluttaja"}


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
            ("kind", "tyyppi (laji)"),  # the second: the header earlier exports wrote
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


FIELD_SUFFIX = " (lisätieto)"  # an additional field's header where its name is a standard one's


def columns(view: SettingsView) -> list[Column]:
    """Every column of the tenant's import file, in the template's order. An additional
    field named like a standard column (or one of its English names) is headed
    "<name> (lisätieto)", so that both can be imported."""
    result = _standard(view)
    standard = {header_key(n) for c in result for n in (c.header, c.key, *c.english)}
    for spec in view.fields_in_order():
        if spec.get("archived"):
            continue
        name = spec["name"]
        result.append(
            Column(
                f"field:{spec['id']}",
                name + FIELD_SUFFIX if header_key(name) in standard else name,
                (),
                bool(spec["mandatory"]),
                FIELD_FORMATS.get(spec["type"], "teksti"),
                tuple(o["name"] for o in spec["options"] if not o["archived"]),
            )
        )
    return result


def header_key(header: Any) -> str:
    """A header as compared: accents, case, punctuation and spacing do not matter."""
    text = unicodedata.normalize("NFKD", str(header or ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", text).replace("_", " ").split())
