"""Finding customers: filters, sorting and paging over the customer list, with the
multi-company rules applied to every query (what a user may see, and which of another
company's details they may filter by and read)."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any

from psa.errors import DomainError, NotFoundError
from psa.tables import Tables

from .domainmodel.settings_view import SettingsView
from .list_projection import text_key

SORTS = {
    "name": ("c.name_key", "c.customer_id"),
    "number": ("COALESCE(c.number_int, 9223372036854775807)", "c.number_key", "c.customer_id"),
    "created": ("c.created_at", "c.customer_id"),
}
UNITS = ("all", "parents", "subunits", "unlinked")
HIDDEN_DETAILS = ("group_id", "account_manager_id", "team", "customer_team", "tags")


@dataclass
class Query:
    """What a user asks of the customer list."""

    q: str | None = None
    type_id: str | None = None
    group_id: str | None = None
    company_group_id: str | None = None
    tag: str | None = None
    account_manager_id: str | None = None
    kind: str | None = None
    unit: str | None = None
    fields: dict[str, dict[str, str]] = field(default_factory=dict)
    sort: str = "name"
    descending: bool = False
    cursor: str | None = None
    limit: int = 50


@dataclass(frozen=True)
class Viewer:
    tenant_id: str
    company_id: str


def _field_filters(view: SettingsView, query: Query) -> list[tuple[str, list[Any]]]:
    """SQL conditions for the additional-field filters, each by its field's type."""
    conditions: list[tuple[str, list[Any]]] = []
    exists = (
        "EXISTS (SELECT 1 FROM {f} f WHERE f.customer_id = c.customer_id AND f.tenant_id = ? "
        "AND f.field_id = ? AND "
    )
    for field_id, ops in query.fields.items():
        where = f"field.{field_id}"
        spec = view.field(field_id)
        if spec is None:
            raise DomainError("no such additional field", where)
        kind = spec["type"]
        base = [view.tenant_id, field_id]
        if kind in ("text", "textarea", "link") and "eq" in ops:
            pattern = f"%{_like(text_key(ops['eq']))}%"
            conditions.append((exists + "f.text_key LIKE ? ESCAPE '\\')", [*base, pattern]))
        elif kind == "dropdown" and "eq" in ops:
            conditions.append(
                (exists + "f.option_id = ?)", [*base, _option(spec, ops["eq"], where)])
            )
        elif kind == "multiselect" and "eq" in ops:
            wanted = [_option(spec, v, where) for v in ops["eq"].split(",") if v.strip()]
            marks = ", ".join("?" for _ in wanted) or "NULL"
            conditions.append((exists + f"f.option_id IN ({marks}))", [*base, *wanted]))
        elif kind == "checkbox" and "eq" in ops:
            value = ops["eq"].strip().lower()
            if value not in ("true", "false"):
                raise DomainError("a checkbox filter is true or false", where)
            if value == "true":
                conditions.append((exists + "f.bool_value = 1)", base))
            else:
                conditions.append(("NOT " + exists + "f.bool_value = 1)", base))
        elif kind == "date" and ("from" in ops or "to" in ops):
            if "from" in ops:
                conditions.append((exists + "f.date_value >= ?)", [*base, ops["from"]]))
            if "to" in ops:
                conditions.append((exists + "f.date_value <= ?)", [*base, ops["to"]]))
        else:
            raise DomainError(
                f"a {kind} field is filtered with " + ("from/to" if kind == "date" else "a value"),
                where,
            )
    return conditions


def _option(spec: dict[str, Any], value: str, where: str) -> str:
    wanted = value.strip()
    for option in spec["options"]:
        if option["id"] == wanted or option["name"].casefold() == wanted.casefold():
            return str(option["id"])
    raise DomainError(f"'{wanted}' is not an option of {spec['name']}", where)


def _like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search(
    tables: Tables, view: SettingsView, viewer: Viewer, query: Query
) -> tuple[list[dict[str, Any]], int, str | None]:
    """One page of customers the viewer may see, the total, and the next page's cursor."""
    rules = view.multi_company
    multi = len(view.company_ids) >= 2
    see_others = rules["see_other_companies_customers"] or not multi
    hide_details = rules["hide_other_companies_details"] and multi
    share_structure = rules["share_company_structure"] or not multi
    t = tables
    conditions: list[tuple[str, list[Any]]] = [("c.tenant_id = ?", [viewer.tenant_id])]
    own_relationship = (
        f"EXISTS (SELECT 1 FROM {t.name('customer_relationship')} r WHERE "
        "r.customer_id = c.customer_id AND r.tenant_id = ? AND r.company_id = ?"
    )
    if not see_others:
        conditions.append((own_relationship + ")", [viewer.tenant_id, viewer.company_id]))

    def relationship_filter(column: str, value: str, hideable: bool) -> None:
        sql = (
            f"EXISTS (SELECT 1 FROM {t.name('customer_relationship')} r WHERE "
            f"r.customer_id = c.customer_id AND r.tenant_id = ? AND r.{column} = ?"
        )
        params: list[Any] = [viewer.tenant_id, value]
        if hideable and hide_details:
            sql += " AND r.company_id = ?"
            params.append(viewer.company_id)
        conditions.append((sql + ")", params))

    if query.type_id:
        relationship_filter("type_id", query.type_id, hideable=False)
    if query.group_id:
        relationship_filter("group_id", query.group_id, hideable=True)
    if query.account_manager_id:
        relationship_filter("account_manager_id", query.account_manager_id, hideable=True)
    if query.tag:
        sql = (
            f"EXISTS (SELECT 1 FROM {t.name('customer_tag')} g WHERE "
            "g.customer_id = c.customer_id AND g.tenant_id = ? AND g.tag_key = ?"
        )
        params = [viewer.tenant_id, text_key(query.tag)]
        if hide_details:
            sql += " AND g.company_id = ?"
            params.append(viewer.company_id)
        conditions.append((sql + ")", params))
    if query.company_group_id:
        conditions.append(("c.company_group_id = ?", [query.company_group_id]))
    if query.kind:
        conditions.append(("c.kind = ?", [query.kind]))
    if query.q:
        needle = text_key(query.q)
        conditions.append(
            (
                "(c.name_key LIKE ? ESCAPE '\\' OR c.number_key LIKE ? ESCAPE '\\' "
                "OR c.business_id LIKE ? ESCAPE '\\')",
                [f"%{_like(needle)}%", f"{_like(needle)}%", f"{_like(query.q.strip())}%"],
            )
        )
    conditions += [
        (sql.replace("{f}", t.name("customer_field")), params)
        for sql, params in _field_filters(view, query)
    ]
    unit = query.unit or view.document.get("hierarchy_filter") or "all"
    if unit not in UNITS:
        raise DomainError(f"must be one of {', '.join(UNITS)}", "unit")
    # A link is visible to every company when the structure is shared, else to the company
    # that made it; the unit filter follows what the viewer can see.
    link = "{a}.parent_id IS NOT NULL"
    link_params: list[Any] = []
    if not share_structure:
        link += " AND {a}.parent_company_id = ?"
        link_params = [viewer.company_id]
    has_parent = link.format(a="c")
    has_child = (
        f"EXISTS (SELECT 1 FROM {t.name('customer_list')} k WHERE k.tenant_id = ? AND "
        "k.parent_id = c.customer_id AND " + link.format(a="k") + ")"
    )
    if unit == "subunits":
        conditions.append((has_parent, link_params))
    elif unit == "parents":
        conditions.append((has_child, [viewer.tenant_id, *link_params]))
    elif unit == "unlinked":
        conditions.append((f"NOT ({has_parent})", link_params))
        conditions.append((f"NOT {has_child}", [viewer.tenant_id, *link_params]))

    where = " AND ".join(sql for sql, _ in conditions)
    params = [p for _, ps in conditions for p in ps]
    if query.sort not in SORTS:
        raise DomainError(f"must be one of {', '.join(SORTS)}", "sort")
    keys = SORTS[query.sort]
    direction = "DESC" if query.descending else "ASC"
    page_where, page_params = where, list(params)
    if query.cursor:
        try:
            after = json.loads(base64.urlsafe_b64decode(query.cursor.encode()))
        except ValueError:
            raise DomainError("not a cursor this API gave", "cursor") from None
        comparison = "<" if query.descending else ">"
        page_where += f" AND ({', '.join(keys)}) {comparison} ({', '.join('?' for _ in keys)})"
        page_params += after
    order = ", ".join(f"{key} {direction}" for key in keys)
    limit = max(1, min(query.limit, 500))
    with t.transaction(commit=False) as cursor:
        t.execute(
            cursor,
            f"SELECT c.document, {', '.join(f'{k} AS k{i}' for i, k in enumerate(keys))} "
            f"FROM {t.name('customer_list')} c WHERE {page_where} ORDER BY {order} LIMIT ?",
            (*page_params, limit + 1),
        )
        rows = cursor.fetchall()
        t.execute(
            cursor,
            f"SELECT COUNT(*) AS n FROM {t.name('customer_list')} c WHERE {where}",
            tuple(params),
        )
        total = int(cursor.fetchone()["n"])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        values = [last[f"k{i}"] for i in range(len(keys))]
        next_cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
    items = [
        shown(json.loads(row["document"]), view, viewer, hide_details, share_structure)
        for row in rows
    ]
    return items, total, next_cursor


def shown(
    customer: dict[str, Any],
    view: SettingsView,
    viewer: Viewer,
    hide_details: bool,
    share_structure: bool,
) -> dict[str, Any]:
    """A customer as this viewer may see it: other companies' hidden details left out,
    additional fields only where shown in details and list, links only where visible."""
    relationships = []
    for relationship in customer["relationships"]:
        item = dict(relationship)
        if hide_details and item["company_id"] != viewer.company_id:
            for key in HIDDEN_DETAILS:
                item[key] = [] if key == "tags" else None
        kind = view.customer_type(item.get("type_id") or "")
        item["invoicing_allowed"] = bool(kind and kind["invoicing_allowed"])
        relationships.append(item)
    customer["relationships"] = relationships
    customer["fields"] = {
        field_id: value
        for field_id, value in (customer.get("fields") or {}).items()
        if (spec := view.field(field_id)) is not None and spec["shown_in_details_and_list"]
    }
    if not share_structure and customer.get("parent_company_id") != viewer.company_id:
        customer["parent_id"] = None
    return customer


def visible_customer(
    view: SettingsView, viewer: Viewer, customer: dict[str, Any]
) -> dict[str, Any]:
    """One customer as this viewer may see it; not found if they may not see it at all."""

    rules = view.multi_company
    multi = len(view.company_ids) >= 2
    see_others = rules["see_other_companies_customers"] or not multi
    own = any(r["company_id"] == viewer.company_id for r in customer["relationships"])
    if not see_others and not own:
        raise NotFoundError("no such customer")
    return shown(
        customer,
        view,
        viewer,
        rules["hide_other_companies_details"] and multi,
        rules["share_company_structure"] or not multi,
    )
