"""The rules of the Tenant aggregate: companies, users and who may see which company."""

from __future__ import annotations

import pytest

from psa.errors import ConflictError, DomainError, NotFoundError
from services.settings.domainmodel import Actor, Tenant

OPERATOR = Actor("operator", "Operator", roles=("operator",))


def test_a_tenant_starts_with_its_companies_and_an_admin_of_all_of_them():
    tenant = Tenant.create(OPERATOR, "Konserni Oy", ["Yhtiö A", "Yhtiö B"], "aino", "Aino")
    assert tenant.is_multi_company
    admin = tenant.user("aino")
    assert admin["roles"] == ["admin"]
    assert admin["company_ids"] == tenant.company_ids
    assert admin["company_id"] == tenant.company_ids[0]


def test_a_tenant_of_one_company_is_not_multi_company():
    assert not Tenant.create(OPERATOR, "Pieni Oy", ["Pieni Oy"]).is_multi_company


def test_a_tenant_needs_a_company_and_company_names_are_unique():
    with pytest.raises(DomainError) as caught:
        Tenant.create(OPERATOR, "Tyhjä", [])
    assert caught.value.field == "companies"
    with pytest.raises(ConflictError) as caught:
        Tenant.create(OPERATOR, "Kaksi", ["Sama", " sama"])
    assert caught.value.field == "companies[1]"


def test_a_new_company_is_granted_to_users_who_had_every_company():
    tenant = Tenant.create(OPERATOR, "Konserni", ["A"], "admin")
    first = tenant.company_ids[0]
    tenant.add_user(OPERATOR, "matti", "Matti", first)
    new = tenant.add_company(OPERATOR, "B")
    assert new in tenant.user("admin")["company_ids"]
    # matti had access to every company too (there was only one): he keeps seeing all.
    assert new in tenant.user("matti")["company_ids"]
    tenant.add_company(OPERATOR, "C")
    tenant.add_user(OPERATOR, "liisa", "Liisa", new)
    third = tenant.add_company(OPERATOR, "D")
    assert third not in tenant.user("liisa")["company_ids"]


def test_users_are_added_to_an_existing_company_with_known_roles():
    tenant = Tenant.create(OPERATOR, "Konserni", ["A", "B"])
    a, b = tenant.company_ids
    tenant.add_user(OPERATOR, "pekka", "Pekka", a, company_ids=[b], roles=["user"])
    assert tenant.user("pekka")["company_ids"] == [a, b]
    with pytest.raises(ConflictError):
        tenant.add_user(OPERATOR, "pekka", "Pekka 2", a)
    with pytest.raises(NotFoundError) as caught:
        tenant.add_user(OPERATOR, "paula", "Paula", "nope")
    assert caught.value.field == "company_id"
    with pytest.raises(DomainError) as caught:
        tenant.add_user(OPERATOR, "paula", "Paula", a, roles=["root"])
    assert caught.value.field == "roles[0]"
    with pytest.raises(DomainError) as caught:
        tenant.add_user(OPERATOR, "has space", "X", a)
    assert caught.value.field == "id"
