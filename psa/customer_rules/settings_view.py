"""The customer settings as the customers service sees them: a plain document per tenant,
kept up to date from `settings.events.v1` (see `apply_settings_event`)."""

from __future__ import annotations

from copy import deepcopy
from typing import Any

EMPTY_DOCUMENT: dict[str, Any] = {
    "tenant_id": None,
    "version": 0,
    "companies": {},
    "users": {},
    "customer_types": {},
    "default_types": {"customer": None, "subcontractor": None, "consumer": None},
    "customer_groups": {},
    "company_groups": {},
    "fields": {},
    "field_order": [],
    "multi_company": {
        "see_other_companies_customers": False,
        "hide_other_companies_details": False,
        "default_relationship_type_id": None,
        "share_company_structure": False,
        "account_manager_from_any_company": False,
        "customer_group_mandatory": False,
    },
    "hierarchy_filter": "all",
    "numbering": {"mode": "automatic", "next_number": 1},
}

_ARCHIVED = {
    "CustomerTypeArchived": ("customer_types", "type_id", True),
    "CustomerTypeRestored": ("customer_types", "type_id", False),
    "CustomerGroupArchived": ("customer_groups", "group_id", True),
    "CustomerGroupRestored": ("customer_groups", "group_id", False),
    "CompanyGroupArchived": ("company_groups", "group_id", True),
    "CompanyGroupRestored": ("company_groups", "group_id", False),
    "FieldArchived": ("fields", "field_id", True),
    "FieldRestored": ("fields", "field_id", False),
}
_RENAMED = {
    "CustomerTypeRenamed": ("customer_types", "type_id"),
    "CustomerGroupRenamed": ("customer_groups", "group_id"),
    "CompanyGroupRenamed": ("company_groups", "group_id"),
    "FieldRenamed": ("fields", "field_id"),
}


def new_document(tenant_id: str) -> dict[str, Any]:
    document = deepcopy(EMPTY_DOCUMENT)
    document["tenant_id"] = tenant_id
    return document


def apply_settings_event(document: dict[str, Any], event: dict[str, Any]) -> None:
    """Apply one published settings or tenant event (the envelope as JSON data)."""
    payload = event["payload"]
    kind = payload["type"]
    if kind == "TenantCreated":
        document["companies"] = {c["id"]: c["name"] for c in payload["companies"]}
        document["users"] = {u["id"]: _user(u) for u in payload["users"]}
    elif kind == "CompanyAdded":
        document["companies"][payload["company_id"]] = payload["name"]
        for user_id in payload["granted_to"]:
            document["users"][user_id]["company_ids"].append(payload["company_id"])
    elif kind == "UserAdded":
        document["users"][payload["user_id"]] = _user({**payload, "id": payload["user_id"]})
    elif kind == "CustomerSettingsCreated":
        document["customer_types"] = {t["id"]: _item(t) for t in payload["customer_types"]}
        document["default_types"] = dict(payload["default_types"])
        document["numbering"] = dict(payload["numbering"])
        document["hierarchy_filter"] = payload["hierarchy_filter"]
        document["multi_company"] = dict(payload["multi_company"])
    elif kind == "CustomerTypeAdded":
        document["customer_types"][payload["type_id"]] = {
            "id": payload["type_id"],
            "name": payload["name"],
            "invoicing_allowed": payload["invoicing_allowed"],
            "archived": False,
        }
    elif kind == "CustomerTypeInvoicingChanged":
        document["customer_types"][payload["type_id"]]["invoicing_allowed"] = payload[
            "invoicing_allowed"
        ]
    elif kind == "DefaultCustomerTypeSet":
        document["default_types"][payload["role"]] = payload["type_id"]
    elif kind == "CustomerGroupAdded":
        document["customer_groups"][payload["group_id"]] = {
            "id": payload["group_id"],
            "name": payload["name"],
            "integration_id": payload["integration_id"],
            "archived": False,
        }
    elif kind == "CustomerGroupIntegrationIdChanged":
        document["customer_groups"][payload["group_id"]]["integration_id"] = payload[
            "integration_id"
        ]
    elif kind == "CompanyGroupAdded":
        document["company_groups"][payload["group_id"]] = {
            "id": payload["group_id"],
            "name": payload["name"],
            "archived": False,
        }
    elif kind == "MultiCompanySettingsChanged":
        document["multi_company"] = {key: payload[key] for key in EMPTY_DOCUMENT["multi_company"]}
    elif kind == "HierarchyFilterChanged":
        document["hierarchy_filter"] = payload["hierarchy_filter"]
    elif kind == "NumberingChanged":
        document["numbering"] = {"mode": payload["mode"], "next_number": payload["next_number"]}
    elif kind == "FieldAdded":
        document["fields"][payload["field_id"]] = {
            "id": payload["field_id"],
            "name": payload["name"],
            "type": payload["field_type"],
            "options": [dict(o) for o in payload["options"]],
            "shown_in_details_and_list": payload["shown_in_details_and_list"],
            "mandatory": payload["mandatory"],
            "shown_in_reports": payload["shown_in_reports"],
            "hubspot_property_id": payload["hubspot_property_id"],
            "archived": False,
        }
        document["field_order"].append(payload["field_id"])
    elif kind == "FieldTypeChanged":
        document["fields"][payload["field_id"]]["type"] = payload["field_type"]
    elif kind == "FieldFlagsChanged":
        field = document["fields"][payload["field_id"]]
        for key in ("shown_in_details_and_list", "mandatory", "shown_in_reports"):
            field[key] = payload[key]
    elif kind == "FieldHubSpotPropertyChanged":
        document["fields"][payload["field_id"]]["hubspot_property_id"] = payload[
            "hubspot_property_id"
        ]
    elif kind == "FieldOptionsChanged":
        document["fields"][payload["field_id"]]["options"] = [dict(o) for o in payload["options"]]
    elif kind == "FieldsReordered":
        document["field_order"] = list(payload["field_ids"])
    elif kind in _RENAMED:
        collection, key = _RENAMED[kind]
        document[collection][payload[key]]["name"] = payload["name"]
    elif kind in _ARCHIVED:
        collection, key, archived = _ARCHIVED[kind]
        document[collection][payload[key]]["archived"] = archived
    # Event types this service does not know yet change nothing here (additive contracts).
    if kind != "TenantCreated" and kind not in ("CompanyAdded", "UserAdded"):
        document["version"] = event["aggregate_version"]


def _user(user: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": user["id"],
        "name": user["name"],
        "company_id": user["company_id"],
        "company_ids": list(user["company_ids"]),
        "roles": list(user["roles"]),
    }


def _item(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": item["id"],
        "name": item["name"],
        "invoicing_allowed": item["invoicing_allowed"],
        "archived": item["archived"],
    }


class SettingsView:
    """Typed questions the customer rules ask of a tenant's settings document."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    @property
    def tenant_id(self) -> str:
        return str(self.document["tenant_id"])

    @property
    def numbering_mode(self) -> str:
        return str(self.document["numbering"]["mode"])

    @property
    def next_number(self) -> int:
        return int(self.document["numbering"]["next_number"])

    @property
    def multi_company(self) -> dict[str, Any]:
        result: dict[str, Any] = self.document["multi_company"]
        return result

    @property
    def company_ids(self) -> list[str]:
        return list(self.document["companies"])

    @property
    def sees_other_companies_customers(self) -> bool:
        """Whether a company's users see the customers of the tenant's other companies too:
        the multi-company setting, or a tenant of one company."""
        return (
            bool(self.multi_company["see_other_companies_customers"])
            or len(self.document["companies"]) < 2
        )

    @property
    def shares_structure(self) -> bool:
        """Whether every company sees the same customer hierarchy: the multi-company
        setting, or a tenant of one company."""
        return (
            bool(self.multi_company["share_company_structure"])
            or len(self.document["companies"]) < 2
        )

    def customer_type(self, type_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.document["customer_types"].get(type_id)
        return result

    def default_type_for(self, kind: str) -> str | None:
        role = {"company": "customer", "subcontractor": "subcontractor", "consumer": "consumer"}[
            kind
        ]
        defaults = self.document["default_types"]
        value: str | None = defaults.get(role) or defaults.get("customer")
        return value

    def customer_group(self, group_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.document["customer_groups"].get(group_id)
        return result

    def company_group(self, group_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.document["company_groups"].get(group_id)
        return result

    def field(self, field_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.document["fields"].get(field_id)
        return result

    def fields_in_order(self) -> list[dict[str, Any]]:
        return [self.document["fields"][fid] for fid in self.document["field_order"]]

    def user(self, user_id: str) -> dict[str, Any] | None:
        result: dict[str, Any] | None = self.document["users"].get(user_id)
        return result
