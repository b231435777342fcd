"""Finding customers: filters, sorting and paging over the customer list, with the
multi-company rules applied to every query (what a user may see, and which of another
company's details they may filter by and read)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from psa.application import HistoryEntry
from psa.customer_rules.settings_view import SettingsView
from psa.errors import DomainError, NotFoundError
from psa.tables import Tables

from .domainmodel.customer import links, seen_parent
from .list_projection import ALL, SCOPE, indexed_value, text_key

SORTS = {
    "name": ("s.name_key", "s.seq"),
    "number": ("s.number_sort", "s.number_key", "s.seq"),
    "created": ("s.created_at", "s.seq"),
}
UNITS = ("all", "parents", "subunits", "unlinked")
HIDDEN_DETAILS = ("group_id", "account_manager_id", "team", "customer_team", "tags")
# Below this many matches a page is sorted from the matches; above, read in index order.
SMALL_RESULT = 2000
# A filter matching at most this many customers is read first, the others checked on those.
CANDIDATES = 5000
# A filter matching more terms than this (a search inside texts) names them by its condition
# rather than by their ids, which the planner would weigh one by one.
MANY_TERMS = 100


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


@dataclass
class Facet:
    """A filter on the inverted index: customers with a term of `facet` in `scope` whose
    value satisfies `condition`. `single` when a customer has at most one such term (every
    filter but one naming several values of a multi-valued facet)."""

    scope: str
    facet: str
    condition: str
    params: list[Any]
    single: bool = True
    negated: bool = False

    term_ids: list[int] | None = None  # the matching terms, when few enough to name

    def resolve(self, t: Tables, cursor: Any, tenant_id: str) -> None:
        """Look the matching terms up, so that the planner sees which postings it reads."""
        sql, params = self._terms(t, tenant_id)
        t.execute(cursor, f"{sql} LIMIT {MANY_TERMS + 1}", tuple(params))
        found = [int(row["term_id"]) for row in cursor.fetchall()]
        self.term_ids = found if len(found) <= MANY_TERMS else None

    @property
    def matches_nothing(self) -> bool:
        return self.term_ids == [] and not self.negated

    def _terms(self, t: Tables, tenant_id: str) -> tuple[str, list[Any]]:
        return (
            f"SELECT term_id FROM {t.name('customer_term')} WHERE tenant_id = ? AND scope = ? "
            f"AND facet = ? AND {self.condition}",
            [tenant_id, self.scope, self.facet, *self.params],
        )

    def seqs(self, t: Tables, tenant_id: str) -> tuple[str, list[Any]]:
        """SQL for the keys of the customers with a matching term."""
        if self.term_ids is not None:
            named = ", ".join(str(term_id) for term_id in self.term_ids) or "NULL"
            return (
                f"SELECT p.seq FROM {t.name('customer_posting')} p WHERE p.term_id IN ({named})",
                [],
            )
        sql, params = self._terms(t, tenant_id)
        return (
            f"SELECT p.seq FROM {t.name('customer_posting')} p WHERE p.term_id IN ({sql})",
            params,
        )


def _field_facets(view: SettingsView, query: Query, scope: str) -> list[Facet]:
    """The additional-field filters, each by its field's type."""
    facets: list[Facet] = []
    for field_id, ops in query.fields.items():
        where = f"field.{field_id}"
        spec = view.field(field_id)
        if spec is None:
            raise DomainError("no such additional field", where)
        kind = spec["type"]
        name = f"field:{field_id}"
        if kind in ("text", "textarea", "link") and "eq" in ops:
            pattern = f"%{_like(text_key(ops['eq']))}%"
            facets.append(Facet(scope, name, "text LIKE ? ESCAPE '\\'", [pattern]))
        elif kind == "dropdown" and "eq" in ops:
            option = text_key(_option(spec, ops["eq"], where))
            facets.append(Facet(scope, name, "value = ?", [option]))
        elif kind == "multiselect" and "eq" in ops:
            wanted = sorted({_option(spec, v, where) for v in ops["eq"].split(",") if v.strip()})
            if not wanted:
                raise DomainError("name at least one option", where)
            marks = ", ".join("?" for _ in wanted)
            facets.append(Facet(scope, name, f"value IN ({marks})", wanted, len(wanted) == 1))
        elif kind == "checkbox" and "eq" in ops:
            value = ops["eq"].strip().lower()
            if value not in ("true", "false"):
                raise DomainError("a checkbox filter is true or false", where)
            # Unticked is every customer whose box is not ticked, set or not.
            facets.append(Facet(scope, name, "value = 'true'", [], negated=value == "false"))
        elif kind == "date" and ("from" in ops or "to" in ops):
            condition, params = [], []
            for op, comparison in (("from", ">="), ("to", "<=")):
                if op in ops:
                    condition.append(f"value {comparison} ?")
                    params.append(_date(ops[op], f"{where}.{op}"))
            facets.append(Facet(scope, name, " AND ".join(condition), params))
        else:
            raise DomainError(
                f"a {kind} field is filtered with " + ("from/to" if kind == "date" else "a value"),
                where,
            )
    return facets


def _date(value: str, where: str) -> str:
    import datetime

    try:
        return datetime.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise DomainError("a date as YYYY-MM-DD", where) from None


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
    """One page of customers the viewer may see, the total, and the next page's cursor.

    Every filter is one range of the facet index within the viewer's scope (the whole tenant,
    or their company's customers), so that counting is reading index entries."""
    hide_details, share_structure = _rules(view)
    t = tables
    tenant_id = viewer.tenant_id
    scope = ALL if view.sees_other_companies_customers else viewer.company_id

    def relationship(facet: str, value: str, hideable: bool) -> Facet:
        # Hidden details of other companies match nothing: only the viewer's own
        # relationship's values are searched.
        if hideable and hide_details:
            return Facet(viewer.company_id, "own:" + facet, "value = ?", [value])
        return Facet(scope, facet, "value = ?", [value])

    facets: list[Facet] = []
    if query.type_id:
        facets.append(relationship("type", query.type_id, hideable=False))
    if query.group_id:
        facets.append(relationship("group", query.group_id, hideable=True))
    if query.account_manager_id:
        facets.append(relationship("account_manager", query.account_manager_id, hideable=True))
    if query.tag:
        facets.append(relationship("tag", indexed_value(text_key(query.tag)), hideable=True))
    if query.company_group_id:
        facets.append(Facet(scope, "company_group", "value = ?", [query.company_group_id]))
    if query.kind:
        facets.append(Facet(scope, "kind", "value = ?", [query.kind]))
    facets += _field_facets(view, query, scope)

    conditions: list[tuple[str, list[Any]]] = [("s.scope_term = ?", [])]
    if query.q:
        needle = _like(text_key(query.q))
        conditions.append(
            (
                "(s.name_key LIKE ? ESCAPE '\\' OR s.number_key LIKE ? ESCAPE '\\' "
                "OR s.business_key LIKE ? ESCAPE '\\')",
                [f"%{needle}%", f"{needle}%", f"{needle}%"],
            )
        )
    unit = query.unit or view.document.get("hierarchy_filter") or "all"
    if unit not in UNITS:
        raise DomainError(f"must be one of {', '.join(UNITS)}", "unit")
    # The last link made is every company's when the structure is shared; else each
    # company's own links are in `customer_link`. The unit filter follows what the viewer sees.
    if share_structure:
        has_parent: tuple[str, list[Any]] = ("s.parent_id IS NOT NULL", [])
        has_child = (
            f"s.customer_id IN (SELECT k.parent_id FROM {t.name('customer_list')} k WHERE "
            "k.tenant_id = ? AND k.parent_id IS NOT NULL)",
            [tenant_id],
        )
    else:
        own_links = f"FROM {t.name('customer_link')} k WHERE k.tenant_id = ? AND k.company_id = ?"
        has_parent = (
            f"s.customer_id IN (SELECT k.customer_id {own_links})",
            [tenant_id, viewer.company_id],
        )
        has_child = (
            f"s.customer_id IN (SELECT k.parent_id {own_links})",
            [tenant_id, viewer.company_id],
        )
    if unit == "subunits":
        conditions.append(has_parent)
    elif unit == "parents":
        conditions.append(has_child)
    elif unit == "unlinked":
        conditions.append((f"NOT ({has_parent[0]})", has_parent[1]))
        conditions.append((f"NOT ({has_child[0]})", has_child[1]))
    if query.sort not in SORTS:
        raise DomainError(f"must be one of {', '.join(SORTS)}", "sort")
    keys = SORTS[query.sort]
    direction = "DESC" if query.descending else "ASC"
    after: list[Any] = []
    if query.cursor:
        try:
            after = json.loads(base64.urlsafe_b64decode(query.cursor.encode()))
        except ValueError:
            raise DomainError("not a cursor this API gave", "cursor") from None
        if not isinstance(after, list) or len(after) != len(keys):
            raise DomainError("not a cursor this API gave", "cursor")
    limit = max(1, min(query.limit, 500))
    rows: list[Any] = []
    documents: dict[int, str] = {}
    with t.transaction(commit=False) as cursor:
        t.execute(
            cursor,
            f"SELECT term_id FROM {t.name('customer_term')} WHERE tenant_id = ? AND scope = ? "
            "AND facet = ? AND value = ''",
            (tenant_id, scope, SCOPE),
        )
        found = cursor.fetchone()
        for facet in facets:
            facet.resolve(t, cursor, tenant_id)
        total = 0
        small = False
        page = conditions
        if found is not None and not any(facet.matches_nothing for facet in facets):
            conditions[0] = ("s.scope_term = ?", [int(found["term_id"])])
            total, page, small = _plan(t, cursor, tenant_id, facets, conditions)
        if total:
            page = list(page)
            if after:
                comparison = "<" if query.descending else ">"
                page.append(
                    (
                        f"({', '.join(keys)}) {comparison} ({', '.join('?' for _ in keys)})",
                        after,
                    )
                )
            # PostgreSQL's planner chooses well by itself, given the posting statistics.
            small = small and not t.postgres
            order = ", ".join(f"{_unindexed(k) if small else k} {direction}" for k in keys)
            t.execute(
                cursor,
                f"SELECT s.seq, {', '.join(f'{k} AS k{i}' for i, k in enumerate(keys))} "
                f"FROM {t.name('customer_scope')} s WHERE {' AND '.join(sql for sql, _ in page)} "
                f"ORDER BY {order} LIMIT ?",
                (*[p for _, ps in page for p in ps], limit + 1),
            )
            rows = cursor.fetchall()
            documents = _documents(t, cursor, [int(row["seq"]) for row in rows[:limit]])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        values = [last[f"k{i}"] for i in range(len(keys))]
        next_cursor = base64.urlsafe_b64encode(json.dumps(values).encode()).decode()
    items = [
        shown(json.loads(documents[int(row["seq"])]), view, viewer, hide_details, share_structure)
        for row in rows
    ]
    return items, total, next_cursor


def _documents(t: Tables, cursor: Any, seqs: list[int]) -> dict[int, str]:
    if not seqs:
        return {}
    t.execute(
        cursor,
        f"SELECT seq, document FROM {t.name('customer_list')} "
        f"WHERE seq IN ({', '.join(str(seq) for seq in seqs)})",
    )
    return {int(row["seq"]): row["document"] for row in cursor.fetchall()}


def _unindexed(key: str) -> str:
    """The same order as `key`, written so that no index can provide it."""
    return f"{key} || ''" if key in ("s.name_key", "s.number_key", "s.created_at") else f"{key} + 0"


def _plan(
    t: Tables,
    cursor: Any,
    tenant_id: str,
    facets: list[Facet],
    conditions: list[tuple[str, list[Any]]],
) -> tuple[int, list[tuple[str, list[Any]]], bool]:
    """The total, the conditions of the page query, and whether its matches are few enough
    to sort (rather than walking the sort index until the page is full).

    The filter with the fewest postings decides: when it has few, its customers are read
    first and every other condition is checked on just those (a lookup each); when all
    have many, the page walks the sort index. One filter on its own is counted in the
    postings, without reading a customer."""
    positive = [f for f in facets if not f.negated and f.term_ids is not None]
    sizes = {id(f): _postings(t, cursor, f) for f in positive}
    smallest = min(positive, key=lambda f: sizes[id(f)], default=None)
    few = smallest is not None and sizes[id(smallest)] <= CANDIDATES
    if len(conditions) == 1 and len(facets) == 1 and smallest is not None and smallest.single:
        return sizes[id(smallest)], [*conditions, _membership(t, tenant_id, smallest, few)], few
    where = list(conditions)
    others = facets
    chosen = smallest if few else None
    candidates: list[int] | None = None
    if chosen is not None:
        sql, params = chosen.seqs(t, tenant_id)
        t.execute(cursor, sql, tuple(params))
        candidates = sorted({int(row["seq"]) for row in cursor.fetchall()})
    else:
        # A search inside texts: its matches are read up to the limit, and used if fewer.
        for facet in facets:
            if facet.negated or facet.term_ids is not None:
                continue
            sql, params = facet.seqs(t, tenant_id)
            t.execute(cursor, f"{sql} LIMIT {CANDIDATES + 1}", tuple(params))
            found = {int(row["seq"]) for row in cursor.fetchall()}
            if len(found) <= CANDIDATES:
                chosen, candidates, few = facet, sorted(found), True
                break
    if candidates is not None:
        if not candidates:
            return 0, where, True
        where.append((f"s.seq IN ({', '.join(str(seq) for seq in candidates)})", []))
        others = [f for f in facets if f is not chosen]
    counted = where + [_membership(t, tenant_id, f, True) for f in others]
    t.execute(
        cursor,
        f"SELECT COUNT(*) AS n FROM {t.name('customer_scope')} s "
        f"WHERE {' AND '.join(sql for sql, _ in counted)}",
        tuple(p for _, ps in counted for p in ps),
    )
    total = int(cursor.fetchone()["n"])
    small = few or (bool(facets) and total <= SMALL_RESULT)
    return total, where + [_membership(t, tenant_id, f, small) for f in others], small


def _postings(t: Tables, cursor: Any, facet: Facet) -> int:
    """How many customers have a term of `facet` (an index-only count)."""
    sql, params = facet.seqs(t, "")
    count = "COUNT(*)" if facet.single else "COUNT(DISTINCT p.seq)"
    t.execute(cursor, sql.replace("SELECT p.seq", f"SELECT {count} AS n", 1), tuple(params))
    return int(cursor.fetchone()["n"])


def _membership(t: Tables, tenant_id: str, facet: Facet, drive: bool) -> tuple[str, list[Any]]:
    """The condition that a customer has (or, negated, has not) a term of `facet`; unless
    `drive`, written so that the match cannot drive the query (a unary plus)."""
    sql, params = facet.seqs(t, tenant_id)
    column = "s.seq" if drive or t.postgres else "+s.seq"
    return f"{column} {'NOT IN' if facet.negated else 'IN'} ({sql})", params


def shown(
    customer: dict[str, Any],
    view: SettingsView,
    viewer: Viewer,
    hide_details: bool,
    share_structure: bool,
) -> dict[str, Any]:
    """A customer as this viewer may see it: other companies' hidden details left out,
    additional fields only where shown in details and list, links only where visible."""
    customer["relationships"] = [
        _relationship_shown(dict(relationship), view, viewer, hide_details)
        for relationship in customer["relationships"]
    ]
    customer["fields"] = _fields_shown(view, customer.get("fields"))
    # The links of other companies are theirs alone without a shared structure.
    parents = links(
        customer.pop("parents", None), customer.get("parent_id"), customer.get("parent_company_id")
    )
    customer["parent_id"] = seen_parent(parents, viewer.company_id, share_structure)
    if not share_structure:
        customer["parent_company_id"] = viewer.company_id if customer["parent_id"] else None
    return customer


def _relationship_shown(
    item: dict[str, Any], view: SettingsView, viewer: Viewer, hide_details: bool
) -> dict[str, Any]:
    if hide_details and item.get("company_id") != viewer.company_id:
        for key in HIDDEN_DETAILS:
            item[key] = [] if key == "tags" else None
    kind = view.customer_type(item.get("type_id") or "")
    item["invoicing_allowed"] = bool(kind and kind["invoicing_allowed"])
    return item


def _fields_shown(view: SettingsView, fields: dict[str, Any] | None) -> dict[str, Any]:
    return {
        field_id: value
        for field_id, value in (fields or {}).items()
        if (spec := view.field(field_id)) is not None and spec["shown_in_details_and_list"]
    }


def _rules(view: SettingsView) -> tuple[bool, bool]:
    """Whether other companies' details are hidden, and whether the structure is shared."""
    multi = len(view.company_ids) >= 2
    return bool(view.multi_company["hide_other_companies_details"] and multi), (
        view.shares_structure
    )


def shown_history(
    view: SettingsView, viewer: Viewer
) -> Callable[[HistoryEntry], HistoryEntry | None]:
    """A change of a customer's history as this viewer may see it; none if what it changed
    is nothing the viewer may see (another company's hidden details or own links)."""

    rules = _rules(view)

    def show(entry: HistoryEntry) -> HistoryEntry | None:
        before = _shown_change(view, viewer, rules, entry.type, entry.before)
        after = _shown_change(view, viewer, rules, entry.type, entry.after)
        if before is not None and before == after:
            return None
        return replace(entry, before=before, after=after)

    return show


def _shown_change(
    view: SettingsView, viewer: Viewer, rules: tuple[bool, bool], kind: str, value: Any
) -> Any:
    """What a change of the customer's history (its `before` or `after`) shows this viewer:
    the multi-company rules (`_rules`) applied as to the customer itself."""
    if not isinstance(value, dict):
        return value
    hide_details, share_structure = rules
    value = dict(value)
    if kind == "CustomerCreated":
        return shown(value, view, viewer, hide_details, share_structure)
    if kind == "CustomerRelationshipSet":
        return _relationship_shown(value, view, viewer, hide_details)
    if "fields" in value:
        value["fields"] = _fields_shown(view, value["fields"])
    if "parents" in value:
        value["parent_id"] = seen_parent(
            value.pop("parents") or {}, viewer.company_id, share_structure
        )
    return value


def visible_customer(
    view: SettingsView, viewer: Viewer, customer: dict[str, Any]
) -> dict[str, Any]:
    """One customer as this viewer may see it; not found if they may not see it at all."""

    own = any(r["company_id"] == viewer.company_id for r in customer["relationships"])
    if not view.sees_other_companies_customers and not own:
        raise NotFoundError("no such customer")
    return shown(customer, view, viewer, *_rules(view))
