"""Use cases of the customers service: create, change and read customers with the settings
applied (defaults, numbering, mandatory values, archived values)."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from copy import deepcopy
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.persistence import IntegrityError

from contracts.imports import import_row_customer_id
from psa.application import Change, HistoryEntry, HistoryPage, ServiceApplication, last_position
from psa.customer_rules.rules import (
    Errors,
    check_contact,
    check_details,
    check_number,
    check_relationship,
    imported_before,
    number_of_another,
)
from psa.customer_rules.settings_view import SettingsView
from psa.errors import ConflictError, NotFoundError, NotReadyError, ValidationFailed

from .domainmodel.customer import Customer, seen_parent
from .domainmodel.import_batch import ImportBatchResult, import_batch_id
from .domainmodel.numbering import NumberCounter, NumberIndex, counter_id, number_index_id

NUMBER_RETRIES = 30


@dataclass(frozen=True)
class CustomerActor:
    """Who acts, and in which company (the token's `company`)."""

    id: str
    name: str
    company_id: str

    @property
    def pair(self) -> tuple[str, str]:
        return (self.id, self.name)


class CustomersApplication(ServiceApplication):
    """Customers of every tenant, stored as events."""

    name = "Customers"
    snapshotting_intervals = {NumberCounter: 500, Customer: 200}
    not_found_message = "no such customer"

    def __init__(
        self,
        env: dict[str, str] | None = None,
        settings: Callable[[str], SettingsView | None] | None = None,
    ) -> None:
        super().__init__(env)
        self.settings_of = settings or (lambda tenant_id: None)
        self.customer_list: Any = None  # the list projection, set by bootstrap

    def close(self) -> None:
        if self.customer_list is not None:
            self.customer_list.tables.close()
        super().close()

    # ---------------------------------------------------------------- reads
    def settings(self, tenant_id: str) -> SettingsView:
        view = self.settings_of(tenant_id)
        if view is None:
            raise NotReadyError(
                "the customer settings of this tenant have not reached the customers service "
                "yet; retry in a moment"
            )
        return view

    def get_customer(self, tenant_id: str, customer_id: UUID) -> Customer:
        """A customer of the tenant (another tenant's customer is not found)."""
        customer = self.read(customer_id)
        if not isinstance(customer, Customer) or customer.tenant_id != tenant_id:
            raise NotFoundError("no such customer")
        return customer

    # ---------------------------------------------------------------- create
    def create_customer(
        self,
        actor: CustomerActor,
        tenant_id: str,
        data: dict[str, Any],
        *,
        customer_id: UUID | None = None,
        request_key: str | None = None,
    ) -> Change:
        """Create a customer with the tenant's defaults and a number; every error at once."""
        view = self.settings(tenant_id)
        errors: Errors = []
        contacts_given = [
            (f"contacts[{index}]", contact)
            for index, contact in enumerate(data.get("contacts") or [])
        ]
        details, relationships, contacts = self._new_values(
            view, actor, data, contacts_given, errors
        )
        given_number = check_number(view, data.get("number"), errors)
        self._check_parent(view, actor, tenant_id, details.get("parent_id"), None, errors)
        if errors:
            raise ValidationFailed(errors)
        customer_id = customer_id or uuid4()
        return self._create_numbered(
            view,
            tenant_id,
            given_number,
            lambda number: Customer.create(
                customer_id=customer_id,
                tenant_id=tenant_id,
                actor_id=actor.id,
                actor_name=actor.name,
                details=details,
                number=number,
                company_id=actor.company_id,
                relationships=relationships,
                contacts=contacts,
                request_key=request_key,
            ),
        )

    def _new_values(
        self,
        view: SettingsView,
        actor: CustomerActor,
        data: dict[str, Any],
        contacts: list[tuple[str, dict[str, Any]]],
        errors: Errors,
    ) -> tuple[dict[str, Any], dict[str, dict[str, Any]], list[dict[str, Any]]]:
        """A new customer's checked details, its relationships (the actor's company's, and
        the default one of every other company), and its contact persons (each given with
        the path its errors name)."""
        details = check_details(view, data, errors, existing=None)
        relationship = check_relationship(
            view,
            data.get("relationship") or {},
            errors,
            company_id=actor.company_id,
            kind=details.get("kind") or "company",
            existing=None,
        )
        checked = [
            {"id": str(uuid4()), "company_id": actor.company_id, **check_contact(c, errors, where)}
            for where, c in contacts
        ]
        relationships = {
            actor.company_id: relationship,
            **self._default_relationships(view, actor.company_id),
        }
        return details, relationships, checked

    @staticmethod
    def _default_relationship(view: SettingsView) -> dict[str, Any] | None:
        type_id = view.multi_company.get("default_relationship_type_id")
        if not type_id or len(view.company_ids) < 2:
            return None
        return {
            "type_id": type_id,
            "group_id": None,
            "account_manager_id": None,
            "team": None,
            "customer_team": None,
            "tags": [],
        }

    def _default_relationships(
        self, view: SettingsView, company_id: str
    ) -> dict[str, dict[str, Any]]:
        """With a default relationship type set, every other company of the group gets a
        relationship of that type with a customer added in one of them."""
        default = self._default_relationship(view)
        if default is None:
            return {}
        return {other: dict(default) for other in view.company_ids if other != company_id}

    def _create_numbered(
        self,
        view: SettingsView,
        tenant_id: str,
        given_number: str | None,
        build: Callable[[str], Customer],
    ) -> Change:
        """Save a new customer with its number index (and the counter) in one transaction."""
        counter_key = counter_id(tenant_id)
        with self.lock(counter_key):
            for _attempt in range(NUMBER_RETRIES):
                counter: NumberCounter | None = None
                if given_number is not None:
                    number = given_number
                    if self.exists(number_index_id(tenant_id, number)):
                        raise ValidationFailed([("number", f"the number {number} is taken")])
                else:
                    counter = self._counter(tenant_id)
                    next_number = max(counter.next_number, view.next_number)
                    while self.exists(number_index_id(tenant_id, str(next_number))):
                        next_number += 1  # taken by hand earlier: skip it
                    counter.issue(next_number)
                    number = str(next_number)
                customer = build(number)
                index = NumberIndex.take(tenant_id, number, customer.id)
                try:
                    recordings = self.save(customer, index, counter)
                except IntegrityError:
                    self.forget(counter_key)
                    if self.exists(customer.id):
                        raise ConflictError("this customer exists already", "id") from None
                    if given_number is not None:
                        raise ValidationFailed(
                            [("number", f"the number {given_number} is taken")]
                        ) from None
                    time.sleep(random.uniform(0.001, 0.005))
                    continue
                except BaseException:
                    self.forget(counter_key)
                    raise
                return Change(customer.as_dict(), customer.version, last_position(recordings))
        raise ConflictError("could not give the customer a number; retry", "number")

    def _counter(self, tenant_id: str) -> NumberCounter:
        key = counter_id(tenant_id)
        if self.exists(key):
            counter: Any = self.repository.get(key)
            assert isinstance(counter, NumberCounter)
            return counter
        return NumberCounter.start(tenant_id)

    def _check_parent(
        self,
        view: SettingsView,
        actor: CustomerActor,
        tenant_id: str,
        parent_id: str | None,
        customer_id: UUID | None,
        errors: Errors,
    ) -> None:
        """The parent must be a customer the actor's company may see (else it is no such
        customer to them), and not the customer itself or below it."""
        if parent_id is None:
            return
        try:
            parent = self.get_customer(tenant_id, UUID(str(parent_id)))
        except (NotFoundError, ValueError):
            errors.append(("parent_id", "no such customer"))
            return
        if not self._seen_by(view, parent.id, actor.company_id):
            errors.append(("parent_id", "no such customer"))
            return
        if customer_id is not None and self._makes_loop(tenant_id, customer_id, parent.id):
            seen_by = (actor.company_id, view.shares_structure)
            errors.append(
                (
                    "parent_id",
                    "would make the customer its own parent"
                    if self._makes_loop(tenant_id, customer_id, parent.id, seen_by=seen_by)
                    else HIDDEN_LOOP,
                )
            )

    # ---------------------------------------------------------------- update
    def update_customer(
        self,
        actor: CustomerActor,
        tenant_id: str,
        customer_id: UUID,
        data: dict[str, Any],
        expected_version: int | frozenset[int] | None = None,
    ) -> Change:
        """Change shared details, the number, and the caller's company's relationship.

        The request is checked against the customer as it is inside the customer's lock, so
        concurrent changes of different things are all kept.
        """
        self.get_customer(tenant_id, customer_id)  # another tenant's customer: 404 first
        view = self.settings(tenant_id)
        new_index: list[NumberIndex] = []

        def command(customer: Customer) -> dict[str, Any]:
            new_index.clear()
            errors: Errors = []
            details = check_details(view, data, errors, existing=customer.as_dict())
            kind = details.get("kind") or customer.kind
            relationship = None
            if "relationship" in data or actor.company_id not in customer.relationships:
                relationship = check_relationship(
                    view,
                    data.get("relationship") or {},
                    errors,
                    company_id=actor.company_id,
                    kind=kind,
                    existing=customer.relationships.get(actor.company_id),
                )
            number = None
            if "number" in data:
                number = check_number(view, data["number"], errors)
                if number is None and not any(e[0] == "number" for e in errors):
                    errors.append(("number", "a customer keeps its number; it cannot be removed"))
            if number is not None and number.casefold() != customer.number.casefold():
                if self.exists(number_index_id(tenant_id, number)):
                    errors.append(("number", f"the number {number} is taken"))
                else:
                    new_index.append(NumberIndex.take(tenant_id, number, customer.id))
            if details.get("parent_id"):
                self._check_parent(
                    view, actor, tenant_id, details["parent_id"], customer_id, errors
                )
            if errors:
                raise ValidationFailed(errors)
            customer.change_details(actor.pair, details, actor.company_id, view.shares_structure)
            if relationship is not None:
                customer.set_relationship(actor.pair, actor.company_id, relationship)
            if number is not None:
                customer.change_number(actor.pair, number)
            return customer.as_dict()

        return self.change(customer_id, expected_version, command, lambda _: new_index)

    def add_contact(
        self,
        actor: CustomerActor,
        tenant_id: str,
        customer_id: UUID,
        data: dict[str, Any],
        expected_version: int | frozenset[int] | None = None,
    ) -> Change:
        """Add a contact person to a customer."""
        self.get_customer(tenant_id, customer_id)
        self.settings(tenant_id)
        errors: Errors = []
        contact = {
            "id": str(uuid4()),
            "company_id": actor.company_id,
            **check_contact(data, errors),
        }
        if errors:
            raise ValidationFailed(errors)

        view = self.settings(tenant_id)
        default = self._default_relationship(view)

        def command(customer: Customer) -> dict[str, Any]:
            customer.add_contact(actor.pair, contact)
            if default is not None and actor.company_id not in customer.relationships:
                customer.set_relationship(actor.pair, actor.company_id, dict(default))
            return contact

        return self.change(customer_id, expected_version, command)

    # ---------------------------------------------------------------- imports
    def execute_import_batch(
        self, tenant_id: str, actor: CustomerActor, batch: dict[str, Any]
    ) -> bool:
        """Create (or update) the customers of one import batch, with defaults and numbers,
        and record each row's outcome, all in one transaction; False if it was done before.

        Rows are checked again against the settings as they are now: a row that became
        invalid since the importer checked it fails with its reason, the others go on."""
        job_id = str(batch["job_id"])
        number = int(batch["batch"])
        if self.exists(import_batch_id(job_id, number)):
            return False
        view = self.settings(tenant_id)
        counter_key = counter_id(tenant_id)
        with self.lock(counter_key):
            for _attempt in range(NUMBER_RETRIES):
                if self.exists(import_batch_id(job_id, number)):
                    return False
                outcomes, aggregates, created, counter = self._plan_batch(
                    view, tenant_id, actor, batch
                )
                result = ImportBatchResult.record(
                    tenant_id=tenant_id,
                    actor=actor.pair,
                    job_id=job_id,
                    batch=number,
                    outcomes=outcomes,
                )
                try:
                    self.save(*aggregates, *created, *([counter] if counter else []), result)
                    for aggregate in aggregates:
                        self.forget(aggregate.id)  # updated from a copy: read it again
                    # A batch's result is never read again (only its existence is asked):
                    # kept in the aggregate cache, a large import's results would fill it.
                    self.forget(result.id)
                except IntegrityError:
                    # Another process saved a customer, a number or this batch meanwhile.
                    self.forget(counter_key)
                    for aggregate in aggregates:
                        self.forget(aggregate.id)
                    time.sleep(random.uniform(0.001, 0.005))
                    continue
                except BaseException:
                    self.forget(counter_key)
                    for aggregate in aggregates:
                        self.forget(aggregate.id)
                    raise
                return True
        raise ConflictError("could not number the batch's customers; it is retried", "number")

    def skip_cancelled_batch(
        self, tenant_id: str, actor: CustomerActor, job_id: str, batch: int
    ) -> bool:
        """Record a batch of an import cancelled since it was sent as not executed (its
        outcome without rows); False if it was done before."""
        if self.exists(import_batch_id(job_id, batch)):
            return False
        result = ImportBatchResult.record(
            tenant_id=tenant_id, actor=actor.pair, job_id=job_id, batch=batch, outcomes=[]
        )
        try:
            self.save(result)
        except IntegrityError:  # executed or recorded meanwhile by another process
            return False
        self.forget(result.id)
        return True

    def _plan_batch(
        self, view: SettingsView, tenant_id: str, actor: CustomerActor, batch: dict[str, Any]
    ) -> tuple[list[dict[str, Any]], list[Customer], list[Any], NumberCounter | None]:
        """Each row's outcome, the customers it updates, and the events of the customers
        (and their numbers) it creates."""
        rows = batch["rows"]
        update_existing = bool(batch.get("update_existing"))
        by_business_id = self._by_business_id(
            tenant_id, [r["customer"].get("business_id") for r in rows]
        )
        counter: NumberCounter | None = None
        next_number = 0
        issued: list[int] = []
        numbers_in_batch: dict[str, UUID] = {}
        outcomes: list[dict[str, Any]] = []
        aggregates: list[Customer] = []
        created: list[Any] = []
        row_ids = {
            r["key"]: import_row_customer_id(UUID(tenant_id), r.get("identity") or r["key"])
            for r in rows
        }
        created_before = self.existing(list(row_ids.values()))
        taken: set[int] = set()  # automatic numbers found taken by hand
        updated_rows: dict[UUID, int] = {}  # customer → the row of this batch that updates it
        parents: dict[UUID, list[Any]] = {}  # the links of customers this batch creates or updates

        def failed(row: dict[str, Any], errors: Errors) -> None:
            column, message = errors[0]
            outcome = {"row": row["row"], "outcome": "failed", "column": column, "message": message}
            if len(errors) > 1:
                outcome["message"] = "; ".join(f"{c}: {m}" for c, m in errors)
                outcome["errors"] = [{"column": c, "message": m} for c, m in errors]
            outcomes.append(outcome)

        free: set[int] = set()  # automatic numbers found free, a run at a time
        # Numbers the batch's rows give, and those the job's later batches give: not given
        # automatically to a row before them.
        numbers_given = {
            str(r["customer"]["number"]).casefold() for r in rows if r["customer"].get("number")
        } | {str(n).casefold() for n in batch.get("reserved_numbers") or []}

        def next_free() -> int:
            """The next automatic number, skipping numbers given by hand (looked up in
            one query for a run of candidates)."""
            nonlocal next_number
            while True:
                text = str(next_number)
                if text in numbers_in_batch or text in numbers_given or next_number in taken:
                    next_number += 1
                    continue
                if next_number in free:
                    return next_number
                candidates = range(next_number, next_number + len(rows))
                owners = self.existing(
                    [number_index_id(tenant_id, str(number)) for number in candidates]
                )
                for number in candidates:
                    owned = number_index_id(tenant_id, str(number)) in owners
                    (taken if owned else free).add(number)

        for row in rows:
            data = dict(row["customer"])
            customer_id = row_ids[row["key"]]
            if customer_id in created_before:  # created by this row before: nothing to do
                done: Any = self.repository.get(customer_id)
                if done.request_key != row["key"]:  # by the same values in an earlier import
                    outcomes.append(
                        {
                            "row": row["row"],
                            "outcome": "skipped",
                            "customer_id": str(customer_id),
                            "column": "name",
                            "message": imported_before(done.number),
                        }
                    )
                    continue
                outcomes.append(
                    {
                        "row": row["row"],
                        "outcome": "created",
                        "customer_id": str(customer_id),
                        "number": done.number,
                        "business_id": done.business_id,
                    }
                )
                continue
            errors: Errors = []
            parent_number = row.get("parent_number")
            if parent_number:
                parent = numbers_in_batch.get(parent_number.casefold())
                if parent is None:  # not of this batch: in the register, seen by the company
                    parent = self._number_owner(tenant_id, parent_number)
                    if parent is not None and not self._seen_by(view, parent, actor.company_id):
                        parent = None  # one the company may not see is none to it
                if parent is None:
                    errors.append(("parent_number", f"no customer has the number {parent_number}"))
                else:
                    data["parent_id"] = str(parent)
            given = check_number(view, data.get("number"), errors)
            if given is not None and given.casefold() in numbers_in_batch:
                errors.append(("number", f"the number {given} is taken"))  # by an earlier row
            match = by_business_id.get(data.get("business_id") or "")
            matched_by = "business_id"
            if match is None and given is not None:
                match = self._number_owner(tenant_id, given)
                matched_by = "number"
            if match is not None and not self._seen_by(view, match, actor.company_id):
                errors.append(
                    (
                        matched_by,
                        f"a customer of another company of the group has this "
                        f"{matched_by.replace('_', ' ')}, and this company may not see it",
                    )
                )
                failed(row, errors)
                continue
            if match is not None and matched_by == "number" and data.get("business_id"):
                # Found by its number, but the row names another company: not the same customer.
                found: Any = self.repository.get(match)
                theirs = found.business_id
                if theirs and theirs != data["business_id"]:
                    errors.append(("number", number_of_another(given, theirs)))
                    failed(row, errors)
                    continue
            if match is not None:
                if update_existing and match in updated_rows:
                    errors.append(
                        (
                            matched_by,
                            f"the same customer as row {updated_rows[match]}, which updates it",
                        )
                    )
                    failed(row, errors)
                    continue
                if not update_existing:
                    outcomes.append(
                        {
                            "row": row["row"],
                            "outcome": "skipped",
                            "customer_id": str(match),
                            "column": matched_by,
                            "message": f"a customer with this {matched_by.replace('_', ' ')} "
                            "exists already",
                        }
                    )
                    continue
                if data.get("parent_id") and self._makes_loop(
                    tenant_id, match, data["parent_id"], parents
                ):
                    errors.append(("parent_number", "would make the customer its own parent"))
                updated = self._import_update(
                    view, actor, tenant_id, match, data, given, errors, row.get("given")
                )
                if errors or updated is None:
                    failed(row, errors or [("customer", "could not be updated")])
                    continue
                if given is not None and given.casefold() != updated.number.casefold():
                    numbers_in_batch[given.casefold()] = match
                    created.append(NumberIndex.taken(tenant_id, given, match))
                    updated.change_number(actor.pair, given)
                aggregates.append(updated)
                parents[match] = list(updated.parents.values())
                updated_rows[match] = row["row"]
                outcomes.append(
                    {
                        "row": row["row"],
                        "outcome": "updated",
                        "customer_id": str(match),
                        "number": updated.number,
                        "business_id": updated.business_id,
                        "changed": bool(updated.pending_events),
                    }
                )
                continue
            details, relationships, contacts = self._new_values(
                view,
                actor,
                data,
                [("contact", data["contact"])] if data.get("contact") else [],
                errors,
            )
            if errors:
                failed(row, errors)
                continue
            if given is None:
                if counter is None:
                    counter = self._counter(tenant_id)
                    next_number = max(counter.next_number, view.next_number)
                number = next_free()
                issued.append(number)
                next_number = number + 1
                customer_number = str(number)
            else:
                customer_number = given
            event = Customer.created(
                customer_id=customer_id,
                tenant_id=tenant_id,
                actor_id=actor.id,
                actor_name=actor.name,
                details=details,
                number=customer_number,
                company_id=actor.company_id,
                relationships=relationships,
                contacts=contacts,
                request_key=row["key"],
            )
            numbers_in_batch[customer_number.casefold()] = customer_id
            parents[customer_id] = [details.get("parent_id")]
            created += [event, NumberIndex.taken(tenant_id, customer_number, customer_id)]
            outcomes.append(
                {
                    "row": row["row"],
                    "outcome": "created",
                    "customer_id": str(customer_id),
                    "number": customer_number,
                    "business_id": details.get("business_id"),
                }
            )
        if counter is not None:
            counter.issue_many(issued)
        return outcomes, aggregates, created, counter

    def _import_update(
        self,
        view: SettingsView,
        actor: CustomerActor,
        tenant_id: str,
        customer_id: UUID,
        data: dict[str, Any],
        number: str | None,
        errors: Errors,
        given_values: list[str] | None = None,
    ) -> Customer | None:
        """An existing customer with the row's values applied (not saved): its details,
        the importing company's relationship, and the row's contact person unless the
        customer has one of that name; a number of the row that is not the customer's must
        be free (the caller gives it, with its index). With `given_values` (the row's
        `given`), only the values the file gave: the rest, defaults included, stay as they
        are; without, every non-empty value."""
        customer: Any = deepcopy(self.repository.get(customer_id))
        if not isinstance(customer, Customer) or customer.tenant_id != tenant_id:
            return None
        if given_values is not None:
            data = _given_only(data, set(given_values), customer.address)
        if (
            number is not None
            and number.casefold() != customer.number.casefold()
            and self.exists(number_index_id(tenant_id, number))
        ):
            errors.append(("number", f"the number {number} is taken"))
        contact = None
        if data.get("contact"):
            names = {  # the importing company's contact persons (the others it cannot see)
                " ".join(c["name"].split()).casefold()
                for c in customer.contacts
                if c.get("company_id") in (actor.company_id, None)
            }
            name = " ".join(str(data["contact"].get("name") or "").split()).casefold()
            if name not in names:  # else the customer has this contact person already
                contact = check_contact(data["contact"], errors)
        given = {
            key: value
            for key, value in data.items()
            if key not in ("number", "relationship", "contact") and value not in (None, "", {}, [])
        }
        details = check_details(view, given, errors, existing=customer.as_dict())
        relationship_data = {
            k: v for k, v in (data.get("relationship") or {}).items() if v not in (None, [], "")
        }
        relationship = check_relationship(
            view,
            relationship_data,
            errors,
            company_id=actor.company_id,
            kind=details.get("kind") or customer.kind,
            existing=customer.relationships.get(actor.company_id),
        )
        if errors:
            return None
        customer.change_details(actor.pair, details, actor.company_id, view.shares_structure)
        if relationship_data or actor.company_id in customer.relationships:
            # A row that gives none of the company's relationship values does not make the
            # company a relationship with another company's customer.
            customer.set_relationship(actor.pair, actor.company_id, relationship)
        if contact is not None:
            customer.add_contact(
                actor.pair, {"id": str(uuid4()), "company_id": actor.company_id, **contact}
            )
        return customer

    def _seen_by(self, view: SettingsView, customer_id: UUID, company_id: str) -> bool:
        """Whether the company's users may see the customer (the multi-company rules): an
        import neither updates nor reports one they may not."""
        if view.sees_other_companies_customers:
            return True
        customer: Any = self.repository.get(customer_id)
        return company_id in customer.relationships

    def _makes_loop(
        self,
        tenant_id: str,
        customer_id: UUID,
        parent_id: Any,
        pending: dict[UUID, list[Any]] | None = None,
        seen_by: tuple[str | None, bool] | None = None,
    ) -> bool:
        """Whether `parent_id` is the customer or below it through any company's links, with
        the links a batch gives (`pending`) in place of the stored ones. No company's own
        structure, nor the shared one whatever the setting becomes, may have a customer as
        its own ancestor. With `seen_by` (a company, whether the structure is shared):
        through the links that company sees only."""
        pending = pending or {}
        seen: set[UUID] = set()
        todo = [UUID(str(parent_id))]
        while todo:
            current = todo.pop()
            if current == customer_id:
                return True
            if current in seen:
                continue
            seen.add(current)
            if current in pending:
                above = pending[current]
            else:
                try:
                    links = self.get_customer(tenant_id, current).parents
                except NotFoundError:
                    continue
                above = list(links.values()) if seen_by is None else [seen_parent(links, *seen_by)]
            todo += [UUID(str(link)) for link in above if link]
        return False

    def _number_owner(self, tenant_id: str, number: str) -> UUID | None:
        index_id = number_index_id(tenant_id, number)
        if not self.exists(index_id):
            return None
        index: Any = self.repository.get(index_id)
        return UUID(str(index.customer_id))

    def _by_business_id(self, tenant_id: str, business_ids: list[Any]) -> dict[str, UUID]:
        wanted = sorted({b for b in business_ids if b})
        if not wanted or self.customer_list is None:
            return {}
        return self.customer_list.by_business_id(tenant_id, wanted)  # type: ignore[no-any-return]

    # ---------------------------------------------------------------- history
    def customer_history(
        self,
        tenant_id: str,
        customer_id: UUID,
        cursor: int | None,
        limit: int,
        show: Callable[[HistoryEntry], HistoryEntry | None] | None = None,
    ) -> HistoryPage:
        """Every change of a customer, newest first: who, when, what, before and after
        (each as `show` gives it to the reader; see `ServiceApplication.history`)."""
        self.get_customer(tenant_id, customer_id)
        return self.history(customer_id, cursor=cursor, limit=limit, show=show)


HIDDEN_LOOP = (
    "would make the customer its own parent through links made while the company structure "
    "was not shared: set the parent of the customers between them again first"
)


def _given_only(
    data: dict[str, Any], given: set[str], address: dict[str, Any] | None
) -> dict[str, Any]:
    """An imported row's values as an update: the details and relationship values the file
    gave (`ImportRow.given`), the address parts given over the customer's `address`."""
    result = {key: value for key, value in data.items() if key in given or key == "parent_id"}
    result["fields"] = data.get("fields") or {}  # only given fields are in a row
    parts = [key.removeprefix("address.") for key in given if key.startswith("address.")]
    if parts:
        row_address = data.get("address") or {}
        result["address"] = {
            **(address or {}),
            **{part: row_address.get(part) for part in parts},
        }
    result["relationship"] = {
        key: value
        for key, value in (data.get("relationship") or {}).items()
        if f"relationship.{key}" in given
    }
    result["contact"] = data.get("contact")
    return result
