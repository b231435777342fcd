"""A file row to a customer, checked as the customers service will check it: every error of the
row at once, each with its column and a message a person understands."""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

import orjson

from psa.customer_rules.business_id import normalize_business_id
from psa.customer_rules.rules import (
    check_contact,
    check_details,
    check_number,
    check_relationship,
)
from psa.customer_rules.settings_view import SettingsView
from psa.spreadsheet import FORMULA_START

from .columns import Column, header_key
from .reader import FORMULA_WITHOUT_VALUE

KINDS = {
    "yritys": "company",
    "company": "company",
    "alihankkija": "subcontractor",
    "subcontractor": "subcontractor",
    "kuluttaja": "consumer",
    "consumer": "consumer",
    "henkilo": "consumer",
    "henkilö": "consumer",
}
TRUE = {"kyllä", "kylla", "k", "yes", "y", "x", "1", "true", "tosi"}
FALSE = {"ei", "no", "n", "0", "false", "epätosi", ""}
# Which column an error of the customers' rules belongs to.
RULE_COLUMNS = {
    "name": "name",
    "kind": "kind",
    "number": "number",
    "business_id": "business_id",
    "company_group_id": "company_group",
    "relationship.type_id": "type",
    "relationship.group_id": "group",
    "relationship.account_manager_id": "account_manager",
    "relationship.team": "team",
    "relationship.customer_team": "customer_team",
    "address.street": "street",
    "address.postal_code": "postal_code",
    "address.city": "city",
    "address.country": "country",
    "contact.name": "contact_name",
    "contact.email": "contact_email",
    "contact.phone": "contact_phone",
    "relationship.tags": "tags",
}


# The details a row gives when its cell is not empty (fields are sent only when given).
GIVEN_DETAILS = ("name", "kind", "business_id", "company_group_id")


def rule_column(where: str) -> str:
    """The column key of a path the customer rules name (`relationship.tags[0]` → `tags`)."""
    if where.startswith("fields."):
        return "field:" + re.sub(r"\[\d+\]$", "", where.removeprefix("fields."))
    base = re.sub(r"\[\d+\]", "", where)
    return RULE_COLUMNS.get(base, base)


@dataclass
class CheckedRow:
    number: int  # the row's number in the file
    customer: dict[str, Any]  # the create body the customers service gets
    parent_number: str | None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column key, message)
    # The values the file gives (`ImportRow.given`): all an existing customer takes from it.
    given: list[str] = field(default_factory=list)
    # A row without a business id or number: what tells it from others (`row_identity`).
    identity: str | None = None


def _text(value: Any) -> str:
    """A cell as text: a date cell as a Finnish date (with its time of day, if it has one),
    and a value the customer export neutralised (`'=…`, so that no spreadsheet runs it as a
    formula) without the apostrophe."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime.date):
        return _finnish_date(value)
    text = str(value)
    if text.startswith("'") and text[1:].startswith((*FORMULA_START, "'")):
        text = text[1:]
    return text.strip()


def _finnish_date(value: datetime.date) -> str:
    text = f"{value.day}.{value.month}.{value.year}"
    if (
        isinstance(value, datetime.datetime)
        and value.time().replace(microsecond=0) != datetime.time()
    ):
        text += f" {value.hour}.{value.minute:02d}"
        if value.second:
            text += f".{value.second:02d}"
    return text


_FINLAND = {"suomi", "finland", "fi", "fin"}


def _finnish(address: dict[str, Any]) -> bool:
    """Whether an address is in Finland (no country: the product's own country)."""
    return not address["country"] or _named_finland(address)


def _named_finland(address: dict[str, Any]) -> bool:
    return bool(address["country"]) and address["country"].casefold() in _FINLAND


def _phone_number(digits: str | None) -> str | None:
    """A Finnish phone number that a spreadsheet took for a number, which dropped what it
    began with: the 0 of a national number (040 123 4567), or the + of an international one
    (358 40 123 4567)."""
    if not digits or not digits.isdigit() or not 5 <= len(digits) <= 12:
        return digits
    return "+" + digits if digits.startswith("358") else "0" + digits


def _split(value: Any) -> list[str]:
    text = _text(value).replace("|", ";")
    return [part.strip() for part in text.split(";") if part.strip()]


def _split_options(spec: dict[str, Any], value: Any) -> list[str]:
    """A multiselect's option names, separated by `;` or `|`; where an option's own name has
    a separator in it (the customer export writes it as it is), the longest run of parts that
    names an option is that option."""
    names = {" ".join(o["name"].split()).casefold() for o in spec["options"]}
    if not any(";" in name or "|" in name for name in names):
        return _split(value)
    tokens = re.split(r"([;|])", _text(value))
    parts, separators = tokens[0::2], tokens[1::2]
    found: list[str] = []
    start = 0
    while start < len(parts):
        for end in range(len(parts), start, -1):
            joined = parts[start] + "".join(
                separators[k] + parts[k + 1] for k in range(start, end - 1)
            )
            if end == start + 1 or " ".join(joined.split()).casefold() in names:
                if joined.strip() and joined.strip() not in found:
                    found.append(joined.strip())
                start = end
                break
    return found


def _by_name(items: dict[str, dict[str, Any]], wanted: str) -> str | None:
    """The item with this id or name: the name compared case-insensitively (names are
    unique so), else, if exactly one item's name is, without accents and punctuation
    ("Saatio" finds "Säätiö" unless there is a "Saatio" as well)."""
    if wanted in items:
        return wanted
    for compare in (name_key, header_key):
        key = compare(wanted)
        found = [item_id for item_id, item in items.items() if compare(item["name"]) == key]
        # An archived item's name may be taken again: the live one is meant.
        found = [i for i in found if not items[i].get("archived")] or found
        if found:
            return found[0] if len(found) == 1 else None  # as near to two: none is meant
    return None


def name_key(name: Any) -> str:
    """A name as names are compared: case and spacing aside ("" for none)."""
    return " ".join(str(name or "").split()).casefold()


# A formula that failed, as a workbook stores it (and a CSV saved from it writes it).
SPREADSHEET_ERRORS = frozenset(
    ("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA")
)


class RowChecker:
    """Checks rows against one tenant's settings, as a given company's user adds them."""

    def __init__(
        self,
        view: SettingsView,
        company_id: str,
        columns: list[Column],
        lossy: bool = False,
        cell_errors: bool = True,
    ) -> None:
        self.view = view
        self.company_id = company_id
        self.columns = {c.key: c for c in columns}
        self.lossy = lossy  # the file's cells may hold U+FFFD for bytes that were not text
        # The file's cells may hold failed formulas (not a workbook read whole: the reader
        # takes one with error cells the other way).
        self.cell_errors = cell_errors
        self._found: dict[tuple[str, str], str | None] = {}

    def _by_name(self, collection: str, wanted: str) -> str | None:
        """`_by_name` in a collection of the settings, remembered: a file names the same few
        groups and users in row after row."""
        key = (collection, wanted)
        if key not in self._found:
            if len(self._found) >= 10_000:  # a file of names that are all different
                self._found.clear()
            self._found[key] = _by_name(self.view.document[collection], wanted)
        return self._found[key]

    def header(self, key: str) -> str:
        column = self.columns.get(key)
        return column.header if column else key

    def check(self, number: int, values: dict[str, Any]) -> CheckedRow:
        view = self.view
        document = view.document
        errors: list[tuple[str, str]] = []
        failed_formulas = []
        suspect = self.lossy
        if self.cell_errors and not suspect:
            try:  # a CSV row, all text: one look at all of it
                suspect = "#" in "\x00".join(values.values())
            except TypeError:  # a workbook's row, with numbers and dates
                suspect = True
        for key, value in values.items() if suspect else ():
            if type(value) is str:
                if value[:1] == "#" and (
                    value in SPREADSHEET_ERRORS or value == FORMULA_WITHOUT_VALUE
                ):
                    failed_formulas.append(key)
                elif self.lossy and "\ufffd" in value:
                    errors.append(
                        (key, f"'{value}' has bytes that are not text in the file's encoding")
                    )
        if failed_formulas:
            values = dict(values)
            for key in failed_formulas:
                errors.append(
                    (
                        key,
                        "the cell's formula has no computed value (the workbook was not saved "
                        "by a spreadsheet program): save it in one, or give the value"
                        if values[key] == FORMULA_WITHOUT_VALUE
                        else f"the cell holds the spreadsheet error {values[key]}",
                    )
                )
                values[key] = None
        data: dict[str, Any] = {"name": _text(values.get("name")) or None}
        kind_text = _text(values.get("kind"))
        if kind_text:
            kind = KINDS.get(kind_text.casefold())
            if kind is None:
                errors.append(("kind", f"'{kind_text}' is not yritys, alihankkija or kuluttaja"))
            data["kind"] = kind
        business_id = _text(values.get("business_id"))
        if business_id:
            data["business_id"] = business_id
        company_group = _text(values.get("company_group"))
        if company_group:
            found = self._by_name("company_groups", company_group)
            if found is None:
                errors.append(("company_group", f"no company group named '{company_group}'"))
            data["company_group_id"] = found
        address = {
            key: _text(values.get(key)) or None
            for key in ("street", "postal_code", "city", "country")
        }
        postal_code = address["postal_code"]
        # A number cell of a workbook, with no country or Finland; or a text one with Finland.
        number_cell = isinstance(values.get("postal_code"), int | float)
        if (
            postal_code
            and postal_code.isdigit()
            and len(postal_code) < 5
            and (_finnish(address) if number_cell else _named_finland(address))
        ):
            # A spreadsheet took a Finnish postal code (00100) for a number and dropped its
            # leading zeros: they are put back.
            address["postal_code"] = postal_code.zfill(5)
        if any(address.values()):
            data["address"] = address
        fields: dict[str, Any] = {}
        for key, value in values.items():
            if key.startswith("field:"):
                field_id = key.removeprefix("field:")
                spec = view.field(field_id)
                if spec is not None:
                    converted = self._field_value(spec, value, errors, key)
                    if converted is not None:
                        fields[field_id] = converted
        data["fields"] = fields
        rule_errors: list[tuple[str, str]] = []
        details = check_details(view, data, rule_errors, existing=None)
        relationship_data: dict[str, Any] = {}
        for key, items in (("type", "customer_types"), ("group", "customer_groups")):
            text = _text(values.get(key))
            if text:
                found = self._by_name(items, text)
                what = "customer type" if key == "type" else "customer group"
                if found is None:
                    names = ", ".join(
                        i["name"] for i in document[items].values() if not i.get("archived")
                    )
                    there_are = f"there are: {names}" if names else "there are none"
                    errors.append((key, f"no {what} named '{text}' ({there_are})"))
                else:
                    relationship_data[f"{key}_id"] = found
        if "group_id" not in relationship_data and not any(e[0] == "group" for e in errors):
            relationship_data["group_id"] = None
        manager = _text(values.get("account_manager"))
        if manager:
            found = self._by_name("users", manager)
            if found is None:
                errors.append(("account_manager", f"no user named '{manager}'"))
            else:
                relationship_data["account_manager_id"] = found
        for key in ("team", "customer_team"):
            if _text(values.get(key)):
                relationship_data[key] = _text(values.get(key))
        tags = _split(values.get("tags"))
        if tags:
            relationship_data["tags"] = tags
        relationship = check_relationship(
            view,
            relationship_data,
            rule_errors,
            company_id=self.company_id,
            kind=details.get("kind") or "company",
            existing=None,
        )
        customer_number = check_number(view, _text(values.get("number")) or None, rule_errors)
        contact = None
        contact_values = {
            key: _text(values.get(f"contact_{key}")) or None for key in ("name", "email", "phone")
        }
        if isinstance(values.get("contact_phone"), int | float) and _finnish(address):
            contact_values["phone"] = _phone_number(contact_values["phone"])
        if any(contact_values.values()):
            contact = check_contact(contact_values, rule_errors)
        # A column the reading of the row found wrong already (a name that matched nothing,
        # say) does not also get the rules' error for the value it became; the rules'
        # different errors of one column are all reported, the same one once.
        flagged = {column for column, _ in errors}
        for where, rule_message in rule_errors:
            column = rule_column(where)
            message = (
                "is required when the contact person's email or phone is given"
                if column == "contact_name" and rule_message == "is required"
                else rule_message
            )
            if column not in flagged and (column, message) not in errors:
                errors.append((column, message))
        # An archived option is allowed where the customer has it already: the name goes on,
        # for the customers service to check against the customer a row updates (a row that
        # finds none fails on the error).
        archived_options = {}
        for where, message in rule_errors:
            field_id = where.removeprefix("fields.")
            if message.endswith(" is archived") and field_id in fields:
                archived_options[field_id] = fields[field_id]
        customer = {
            **details,
            "kind": details.get("kind") or "company",
            "fields": {**(details.get("fields") or {}), **archived_options},
            "number": customer_number,
            "relationship": relationship,
            "contact": contact,
        }
        parent = _text(values.get("parent_number")) or None
        given = [key for key in GIVEN_DETAILS if data.get(key)]
        given += [f"address.{key}" for key, value in address.items() if value]
        given += [f"relationship.{key}" for key, value in relationship_data.items() if value]
        identity = None
        if not customer.get("number") and not customer.get("business_id"):
            identity = row_identity(self.company_id, values)
        return CheckedRow(number, customer, parent, errors, given, identity)

    def _field_value(
        self, spec: dict[str, Any], value: Any, errors: list[tuple[str, str]], key: str
    ) -> Any:
        kind = spec["type"]
        if value is None or _text(value) == "":
            return None
        if kind == "checkbox":
            if isinstance(value, bool):
                return value
            text = _text(value).casefold()
            if text in TRUE:
                return True
            if text in FALSE:
                return False
            errors.append((key, f"{spec['name']}: '{_text(value)}' is not kyllä/ei"))
            return None
        if kind == "multiselect":
            return _split_options(spec, value)
        if kind == "date" and isinstance(value, datetime.datetime | datetime.date):
            return value if isinstance(value, datetime.date) else value.date()
        return _text(value)


def row_identity(company_id: Any, values: dict[str, Any]) -> str:
    """What tells a row without a business id or number from others: a digest of the values
    its cells give (as text, case and spacing aside; not what the settings make of them, such
    as a default type, which may change between two imports) and the importing company. The
    customer the row creates has an id derived from it (`ImportRow.identity`), so the same
    row imported again finds that customer instead of creating a second one; a row with any
    value changed is another customer."""
    given = {}
    for key, value in values.items():
        text = " ".join(_text(value).split()).casefold()
        if text:
            given[key] = text
    digest = orjson.dumps([str(company_id), given], option=orjson.OPT_SORT_KEYS)
    return "values:" + hashlib.sha256(digest).hexdigest()[:32]


def same_row(first: int) -> str:
    """The message of a row without a business id or number whose values are all those of an
    earlier row: one customer, not two."""
    return (
        f"the same values as row {first}: a row without a business ID or number is told "
        "from the others by its values, so it would be the same customer"
    )


def namesake(name: str, numbers: list[str]) -> str:
    """The note of a row without a business id or number that would create a customer with
    the name of others in the register (their numbers): the same customer, perhaps, whose
    row was edited since an earlier import."""
    shown = ", ".join(numbers[:5]) + (", …" if len(numbers) > 5 else "")
    if len(numbers) == 1:
        return (
            f"a customer named {name} exists already (number {shown}): this row would create "
            "another one; if it is that customer, give its number in the row"
        )
    return (
        f"customers named {name} exist already (numbers {shown}): this row would create "
        "another one; if it is one of them, give its number in the row"
    )


def duplicate_key(customer: dict[str, Any]) -> tuple[str | None, str | None]:
    """The business id and the number (case-insensitively) a row would take."""
    business_id = customer.get("business_id")
    if business_id:
        try:
            business_id = normalize_business_id(business_id)
        except ValueError:
            business_id = None
    number = customer.get("number")
    return business_id, (number.casefold() if number else None)
