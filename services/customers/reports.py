"""Reports over the customer list: counts by a grouping, and exports one row per customer,
always within what the viewer may see."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from psa.customer_rules.columns import KIND_NAMES, columns
from psa.customer_rules.settings_view import SettingsView
from psa.errors import DomainError, NotFoundError
from psa.spreadsheet import export_cell
from psa.tables import Tables

from .list_projection import text_key
from .search import Query, Viewer, search, visible_customer

GROUPINGS = ("type", "group", "company_group", "kind")
EXPORT_PAGE = 500


def counts(
    tables: Tables, view: SettingsView, viewer: Viewer, by: str, query: Query
) -> list[dict[str, Any]]:
    """How many visible customers fall in each type, group, company group or kind."""
    if by not in GROUPINGS:
        raise DomainError(f"must be one of {', '.join(GROUPINGS)}", "by")
    tally: dict[str | None, int] = {}
    for customer in _all(tables, view, viewer, query):
        if by == "kind":
            keys: set[str | None] = {customer["kind"]}
        elif by == "company_group":
            keys = {customer.get("company_group_id")}
        else:
            column = "type_id" if by == "type" else "group_id"
            keys = {r.get(column) for r in customer["relationships"] if r.get(column)} or {None}
        for key in keys:
            tally[key] = tally.get(key, 0) + 1
    names = _names(view, by)
    rows = [
        {"key": key, "name": names.get(key, key) if key else "(none)", "count": count}
        for key, count in tally.items()
    ]
    return sorted(rows, key=lambda row: (-row["count"], str(row["name"])))


def _names(view: SettingsView, by: str) -> dict[str | None, str]:
    document = view.document
    source = {
        "type": document["customer_types"],
        "group": document["customer_groups"],
        "company_group": document["company_groups"],
    }.get(by)
    if source is None:
        return {}
    return {key: item["name"] for key, item in source.items()}


def _all(tables: Tables, view: SettingsView, viewer: Viewer, query: Query) -> Iterator[dict]:  # type: ignore[type-arg]
    """Every visible customer matching `query`, a page at a time (constant memory)."""
    for page in _pages(tables, view, viewer, query):
        yield from page


def _pages(
    tables: Tables, view: SettingsView, viewer: Viewer, query: Query
) -> Iterator[list[dict[str, Any]]]:
    cursor = None
    while True:
        items, _, cursor = search(
            tables, view, viewer, replace(query, cursor=cursor, limit=EXPORT_PAGE)
        )
        yield items
        if cursor is None:
            return


# The export's columns: the import's, so that an exported register can be edited and imported
# back (with "update existing"); the contact person is not exported.
EXPORT_COLUMNS = (
    "number",
    "name",
    "kind",
    "business_id",
    "company_group",
    "parent_number",
    "street",
    "postal_code",
    "city",
    "country",
    "type",
    "group",
    "account_manager",
    "team",
    "customer_team",
    "tags",
)


def _report_fields(view: SettingsView) -> list[dict[str, Any]]:
    """The fields an export has: those shown in reports and not archived (not columns of the
    import)."""
    return [f for f in view.fields_in_order() if f["shown_in_reports"] and not f["archived"]]


def _user_labels(view: SettingsView) -> dict[str, str]:
    """Each user as the export names them: by name, or by id where another user has the same
    name (the import takes either)."""
    users = view.document["users"]
    names = Counter(text_key(user["name"]) for user in users.values())
    return {
        user_id: user["name"] if names[text_key(user["name"])] == 1 else user_id
        for user_id, user in users.items()
    }


def export_header(view: SettingsView) -> list[str]:
    """The import's headers of the exported columns (an additional field named like a
    standard column has the import's "(lisätieto)" after its name)."""
    headers = {column.key: column.header for column in columns(view)}
    return [
        *(headers[key] for key in EXPORT_COLUMNS),
        *(headers.get(f"field:{f['id']}", f["name"]) for f in _report_fields(view)),
    ]


def export_rows(
    tables: Tables, view: SettingsView, viewer: Viewer, query: Query
) -> Iterator[list[str]]:
    """Every visible customer matching `query` as a row of the export, a page at a time."""
    fields = _report_fields(view)
    users = _user_labels(view)
    for page in _pages(tables, view, viewer, query):
        parents = _parent_numbers(tables, view, viewer, page)
        for customer in page:
            yield export_row(view, viewer, customer, parents, fields, users)


def _parent_numbers(
    tables: Tables, view: SettingsView, viewer: Viewer, page: list[dict[str, Any]]
) -> dict[str, str]:
    """The numbers of the parents of a page's customers that the viewer may see."""
    wanted = {c["parent_id"] for c in page if c.get("parent_id")}
    if not wanted:
        return {}
    found: dict[str, str] = {}
    statement = (
        f"SELECT customer_id, document FROM {tables.name('customer_list')} "
        "WHERE tenant_id = ? AND customer_id IN ({marks})"
    )
    with tables.transaction(commit=False) as cursor:
        for row in tables.select_in(cursor, statement, sorted(wanted), (viewer.tenant_id,)):
            try:
                parent = visible_customer(view, viewer, json.loads(row["document"]))
            except NotFoundError:
                continue
            found[str(row["customer_id"])] = parent["number"]
    return found


def export_row(
    view: SettingsView,
    viewer: Viewer,
    customer: dict[str, Any],
    parents: dict[str, str],
    fields: list[dict[str, Any]],
    users: dict[str, str],
) -> list[str]:
    """Shared details, the viewer's company's relationship, and the report fields, written
    as the import reads them."""
    document = view.document
    own: dict[str, Any] = next(
        (r for r in customer["relationships"] if r["company_id"] == viewer.company_id), {}
    )
    address = customer.get("address") or {}
    values: list[Any] = [
        customer["number"],
        customer["name"],
        KIND_NAMES.get(customer["kind"], customer["kind"]),
        customer.get("business_id"),
        (document["company_groups"].get(customer.get("company_group_id") or "") or {}).get("name"),
        parents.get(customer.get("parent_id") or ""),
        address.get("street"),
        address.get("postal_code"),
        address.get("city"),
        address.get("country"),
        (document["customer_types"].get(own.get("type_id") or "") or {}).get("name"),
        (document["customer_groups"].get(own.get("group_id") or "") or {}).get("name"),
        users.get(own.get("account_manager_id") or ""),
        own.get("team"),
        own.get("customer_team"),
        "; ".join(own.get("tags") or []),
    ]
    values += [_field_text(f, (customer.get("fields") or {}).get(f["id"])) for f in fields]
    return [export_cell(value) for value in values]


def _field_text(field: dict[str, Any], value: Any) -> str:
    if value is None:
        return ""
    options = {o["id"]: o["name"] for o in field["options"]}
    if isinstance(value, bool):
        return "kyllä" if value else "ei"
    if isinstance(value, list):
        return "; ".join(str(options.get(v, v)) for v in value)
    return str(options.get(value, value))


def csv_lines(tables: Tables, view: SettingsView, viewer: Viewer, query: Query) -> Iterator[bytes]:
    """The export as CSV (UTF-8 with BOM, `;` as spreadsheets in Finland expect), streamed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(export_header(view))
    for count, row in enumerate(export_rows(tables, view, viewer, query), start=1):
        writer.writerow(row)
        if count % 200 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()


def xlsx_file(tables: Tables, view: SettingsView, viewer: Viewer, query: Query) -> Any:
    """The export as an XLSX workbook in a temporary file (openpyxl's write-only mode keeps
    memory flat); the caller streams the file and closes it."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Asiakkaat")
    sheet.append(export_header(view))
    for row in export_rows(tables, view, viewer, query):
        sheet.append(row)
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - the response streams and closes it
    workbook.save(handle)
    handle.seek(0)
    return handle
