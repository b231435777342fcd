"""The settings applied to a customer on create and update.

Every check adds to one list of errors, so a request (or an import row) learns everything that
is wrong with it at once. Archived types, groups, fields and options are refused as new values
but kept where a customer already has them.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from .business_id import normalize_business_id
from .numbers import clean_number
from .settings_view import SettingsView

KINDS = ("company", "subcontractor", "consumer")
TEXT_LIMITS = {"text": 1000, "textarea": 10000, "link": 2000}
NAME_MAX_LENGTH = 200
TAG_MAX_LENGTH = 50
_FINNISH_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Errors = list[tuple[str, str]]


def _text(value: Any, field: str, errors: Errors, limit: int = 200) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        errors.append((field, "must be text"))
        return None
    cleaned = " ".join(value.split()) if limit <= 200 else value.strip()
    if len(cleaned) > limit:
        errors.append((field, f"must be at most {limit} characters"))
        return None
    return cleaned or None


def parse_date(value: str) -> str:
    """ISO (2026-11-27) or Finnish (27.11.2026) to ISO; ValueError if neither."""
    text = value.strip()
    match = _FINNISH_DATE.match(text)
    if match:
        day, month, year = (int(g) for g in match.groups())
        return date(year, month, day).isoformat()
    if not _ISO_DATE.match(text):
        raise ValueError("not a date")
    return date.fromisoformat(text).isoformat()


def check_link(value: str) -> str:
    text = value.strip()
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise ValueError("must be a link without spaces or line breaks")
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an absolute http:// or https:// link")
    return text


def _option_id(field: dict[str, Any], value: Any, old: set[str]) -> str:
    """An option by id or name; archived ones only where the customer already has them."""
    if not isinstance(value, str):
        raise ValueError("must be an option's id or name")
    wanted = value.strip()
    for option in field["options"]:
        if option["id"] == wanted or option["name"].casefold() == wanted.casefold():
            if option["archived"] and option["id"] not in old:
                raise ValueError(f"the option '{option['name']}' is archived")
            return str(option["id"])
    names = ", ".join(o["name"] for o in field["options"] if not o["archived"])
    raise ValueError(
        f"'{wanted}' is not an option ({f'options: {names}' if names else 'no options'})"
    )


def check_field_value(field: dict[str, Any], value: Any, old: Any) -> Any:
    """One additional field's value, checked by the field's type; ValueError if wrong."""
    kind = field["type"]
    if value is None or value == "" or value == []:
        return None
    if kind in ("text", "textarea"):
        if not isinstance(value, str):
            raise ValueError("must be text")
        text = value.strip()
        if len(text) > TEXT_LIMITS[kind]:
            raise ValueError(f"must be at most {TEXT_LIMITS[kind]} characters")
        return text or None
    if kind == "link":
        if not isinstance(value, str):
            raise ValueError("must be a link")
        return check_link(value)
    if kind == "date":
        if isinstance(value, datetime):
            return value.date().isoformat()
        if isinstance(value, date):
            return value.isoformat()
        if not isinstance(value, str):
            raise ValueError("must be a date like 2026-11-27 or 27.11.2026")
        try:
            return parse_date(value)
        except ValueError:
            raise ValueError("must be a date like 2026-11-27 or 27.11.2026") from None
    if kind == "checkbox":
        if not isinstance(value, bool):
            raise ValueError("must be true or false")
        return value
    if kind == "dropdown":
        return _option_id(field, value, {old} if isinstance(old, str) else set())
    if kind == "multiselect":
        values = value if isinstance(value, list) else [value]
        # A dropdown that became a multiselect keeps its single value as the first of a list.
        previous = set(old) if isinstance(old, list) else ({old} if isinstance(old, str) else set())
        chosen: list[str] = []
        for item in values:
            option_id = _option_id(field, item, previous)
            if option_id not in chosen:
                chosen.append(option_id)
        return chosen
    raise ValueError(f"unknown field type {kind}")


def check_fields(
    view: SettingsView,
    values: dict[str, Any],
    old_values: dict[str, Any],
    errors: Errors,
    *,
    creating: bool,
) -> dict[str, Any]:
    """The customer's additional field values after applying `values` to `old_values`."""
    result = dict(old_values)
    for field_id, value in values.items():
        where = f"fields.{field_id}"
        field = view.field(field_id)
        if field is None:
            errors.append((where, "no such additional field"))
            continue
        old = old_values.get(field_id)
        if field["archived"] and value != old:
            errors.append((where, f"the field '{field['name']}' is archived"))
            continue
        try:
            checked = check_field_value(field, value, old)
        except ValueError as error:
            errors.append((where, f"{field['name']}: {error}"))
            continue
        if checked is None:
            result.pop(field_id, None)
            if field["mandatory"] and not field["archived"]:
                errors.append((where, f"{field['name']} is mandatory"))
        else:
            result[field_id] = checked
    if creating:
        for field in view.fields_in_order():
            where = f"fields.{field['id']}"
            missing = field["mandatory"] and not field["archived"] and field["id"] not in result
            if missing and not any(e[0] == where for e in errors):
                errors.append((where, f"{field['name']} is mandatory"))
    return result


def missing_value(message: str) -> bool:
    """Whether an error of these rules says only that a value a new customer needs is not
    given (a customer that exists has it already)."""
    return message in ("is required", "a customer group is mandatory") or message.endswith(
        " is mandatory"
    )


def fine_if_existing(message: str) -> bool:
    """Whether an error of these rules may not hold for a customer that exists: a value a new
    customer needs is not given (the customer has it), or an archived type, group, company
    group or option is named (the customer may have it already, which is allowed)."""
    return missing_value(message) or message.endswith(" is archived")


def check_details(
    view: SettingsView,
    data: dict[str, Any],
    errors: Errors,
    *,
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """The shared details given in `data`, checked (all of them when creating)."""
    creating = existing is None
    old = existing or {}
    details: dict[str, Any] = {}
    if creating or "name" in data:
        name = _text(data.get("name"), "name", errors, NAME_MAX_LENGTH)
        if name is None and not any(e[0] == "name" for e in errors):
            errors.append(("name", "is required"))
        details["name"] = name
    if not creating and "kind" in data and data["kind"] is None:
        errors.append(("kind", f"must be one of {', '.join(KINDS)}"))
    elif creating or "kind" in data:
        kind = data.get("kind") or "company"
        if kind not in KINDS:
            errors.append(("kind", f"must be one of {', '.join(KINDS)}"))
        details["kind"] = kind
    if creating or "business_id" in data:
        value = data.get("business_id")
        if value in (None, ""):
            details["business_id"] = None
        elif not isinstance(value, str):
            errors.append(("business_id", "must be text like 1234567-8"))
        else:
            try:
                details["business_id"] = normalize_business_id(value)
            except ValueError as error:
                errors.append(("business_id", str(error)))
    if creating or "company_group_id" in data:
        group_id = data.get("company_group_id")
        if group_id:
            group = view.company_group(group_id)
            if group is None:
                errors.append(("company_group_id", "no such company group"))
            elif group["archived"] and group_id != old.get("company_group_id"):
                errors.append(
                    ("company_group_id", f"the company group '{group['name']}' is archived")
                )
        details["company_group_id"] = group_id or None
    if creating or "parent_id" in data:
        details["parent_id"] = data.get("parent_id") or None
    if creating or "address" in data:
        details["address"] = _address(data.get("address"), errors)
    if creating or "fields" in data:
        values = data.get("fields") or {}
        if not isinstance(values, dict):
            errors.append(("fields", "must map field ids to values"))
            values = {}
        details["fields"] = check_fields(
            view, values, old.get("fields") or {}, errors, creating=creating
        )
    return details


def _address(value: Any, errors: Errors) -> dict[str, Any] | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        errors.append(("address", "must be an object"))
        return None
    address = {
        key: _text(value.get(key), f"address.{key}", errors)
        for key in ("street", "postal_code", "city", "country")
    }
    return address if any(address.values()) else None


def check_relationship(
    view: SettingsView,
    data: dict[str, Any],
    errors: Errors,
    *,
    company_id: str,
    kind: str,
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    """A company's relationship after applying `data`, with defaults and the group rule."""
    where = "relationship"
    old = existing or {}
    result = {
        "type_id": old.get("type_id"),
        "group_id": old.get("group_id"),
        "account_manager_id": old.get("account_manager_id"),
        "team": old.get("team"),
        "customer_team": old.get("customer_team"),
        "tags": list(old.get("tags") or []),
    }
    if company_id not in view.company_ids:
        errors.append(("company", "the token's company is not a company of this tenant"))
    if "type_id" in data and data["type_id"] is not None:
        type_id = data["type_id"]
        item = view.customer_type(type_id)
        if item is None:
            errors.append((f"{where}.type_id", "no such customer type"))
        elif item["archived"] and type_id != old.get("type_id"):
            errors.append((f"{where}.type_id", f"the customer type '{item['name']}' is archived"))
        result["type_id"] = type_id
    if result["type_id"] is None:
        default = view.default_type_for(kind)
        if default is None:
            errors.append((f"{where}.type_id", "no type given and no default type is set"))
        result["type_id"] = default
    if "group_id" in data:
        group_id = data["group_id"] or None
        if group_id is not None:
            group = view.customer_group(group_id)
            if group is None:
                errors.append((f"{where}.group_id", "no such customer group"))
            elif group["archived"] and group_id != old.get("group_id"):
                errors.append(
                    (f"{where}.group_id", f"the customer group '{group['name']}' is archived")
                )
        result["group_id"] = group_id
    if view.multi_company["customer_group_mandatory"] and result["group_id"] is None:
        errors.append((f"{where}.group_id", "a customer group is mandatory"))
    if "account_manager_id" in data:
        manager_id = data["account_manager_id"] or None
        if manager_id is not None:
            user = view.user(manager_id)
            if user is None:
                errors.append((f"{where}.account_manager_id", "no such user in this tenant"))
            elif (
                not view.multi_company["account_manager_from_any_company"]
                and company_id not in user["company_ids"]
            ):
                errors.append(
                    (
                        f"{where}.account_manager_id",
                        "the account manager must be a user of this company",
                    )
                )
        result["account_manager_id"] = manager_id
    for key in ("team", "customer_team"):
        if key in data:
            result[key] = _text(data[key], f"{where}.{key}", errors, 100)
    if "tags" in data:
        tags: list[str] = []
        for index, tag in enumerate(data["tags"] or []):
            text = _text(tag, f"{where}.tags[{index}]", errors, TAG_MAX_LENGTH)
            if text and text.casefold() not in {t.casefold() for t in tags}:
                tags.append(text)
        result["tags"] = tags
    return result


def check_contact(data: dict[str, Any], errors: Errors, where: str = "contact") -> dict[str, Any]:
    contact = {
        "name": _text(data.get("name"), f"{where}.name", errors),
        "email": _text(data.get("email"), f"{where}.email", errors),
        "phone": _text(data.get("phone"), f"{where}.phone", errors, 50),
    }
    if contact["name"] is None:
        errors.append((f"{where}.name", "is required"))
    email = contact["email"]
    if email is not None and not re.match(r"^[^@\s]+@[^@\s]+\.[^@\s]+$", email):
        errors.append((f"{where}.email", "is not an email address"))
    return contact


def number_of_another(number: str | None, business_id: str) -> str:
    """The message of an import row that gives one business id and the number of a customer
    with another: two companies, not one customer to update."""
    return f"the number {number} is another customer's, whose business ID is {business_id}"


def links(parents: dict[str, str] | None, parent_id: Any, company_id: Any) -> dict[str, str]:
    """Each company's link to a parent, by company id; an event stored before they were
    kept has only the last link and the company that made it (none: a link no company
    sees without a shared structure, as before)."""
    if parents is not None:
        return dict(parents)
    return {str(company_id or ""): str(parent_id)} if parent_id else {}


def imported_before(number: str) -> str:
    """The message of an import row without a business id or number whose values an earlier
    import of the company created a customer from: that customer, not a second one."""
    return (
        f"the same row (every value the same) was imported before, as customer {number}: "
        "it is not created again"
    )


def check_number(view: SettingsView, value: Any, errors: Errors) -> str | None:
    """A number given by hand; required in manual numbering."""
    if value in (None, ""):
        if view.numbering_mode == "manual":
            errors.append(("number", "is required: the customer numbers are given by hand"))
        return None
    try:
        return clean_number(str(value))
    except ValueError as error:
        errors.append(("number", str(error)))
        return None
