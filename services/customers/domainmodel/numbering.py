"""Customer numbers: unique per tenant (case-insensitively), never reused, gap-free.

Each number given to a customer is an aggregate of its own whose id derives from the tenant and
the number: saving a second customer with the same number fails in the store, in the same
transaction that would have created the customer. Automatic numbers come from a counter per
tenant that moves only when its customer is saved, so failed or concurrent creates leave no
gap. Numbers given by hand are accepted when free; the counter skips them when it gets there.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from psa.customer_rules.numbers import clean_number
from psa.domain import PlainStateCopy

__all__ = ["NumberCounter", "NumberIndex", "clean_number", "counter_id", "number_index_id"]

NUMBER_NAMESPACE = uuid5(NAMESPACE_URL, "urn:psa:customer-number")


@lru_cache(maxsize=65536)  # a batch asks for the same numbers' ids more than once
def number_index_id(tenant_id: str, number: str) -> UUID:
    return uuid5(NUMBER_NAMESPACE, f"{tenant_id}:number:{number.casefold()}")


def counter_id(tenant_id: str) -> UUID:
    return uuid5(NUMBER_NAMESPACE, f"{tenant_id}:counter")


class NumberIndex(PlainStateCopy, Aggregate):
    """A customer number that is taken (it stays taken: numbers are never reused)."""

    class Event(Aggregate.Event):
        pass

    class Taken(Event, Aggregate.Created):
        tenant_id: str
        number: str
        customer_id: str

    def __init__(self, tenant_id: str, number: str, customer_id: str) -> None:
        self.tenant_id = tenant_id
        self.number = number
        self.customer_id = customer_id

    @classmethod
    def take(cls, tenant_id: str, number: str, customer_id: UUID) -> NumberIndex:
        return cls._create(
            cls.Taken,
            id=number_index_id(tenant_id, number),
            tenant_id=tenant_id,
            number=number,
            customer_id=str(customer_id),
        )

    @classmethod
    def taken(cls, tenant_id: str, number: str, customer_id: UUID) -> NumberIndex.Taken:
        """The event of `take`, without the aggregate (for a bulk create)."""
        event: Any = cls.Taken  # a dataclass made by the library's metaclass
        return event(  # type: ignore[no-any-return]
            originator_id=number_index_id(tenant_id, number),
            originator_version=cls.INITIAL_VERSION,
            originator_topic=_TOPIC,
            timestamp=cls.Taken.create_timestamp(),
            tenant_id=tenant_id,
            number=number,
            customer_id=str(customer_id),
        )


class NumberCounter(PlainStateCopy, Aggregate):
    """The next automatic number of a tenant."""

    class Event(Aggregate.Event):
        pass

    class Started(Event, Aggregate.Created):
        tenant_id: str

    class NumberIssued(Event):
        number: int
        internal: ClassVar[bool] = True

        def apply(self, counter: NumberCounter) -> None:
            counter.next_number = self.number + 1

    class NumbersIssued(Event):
        """Several numbers at once (an import batch); the next is after the last."""

        numbers: list[int]
        internal: ClassVar[bool] = True

        def apply(self, counter: NumberCounter) -> None:
            counter.next_number = max(self.numbers) + 1

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self.next_number = 1

    @classmethod
    def start(cls, tenant_id: str) -> NumberCounter:
        return cls._create(cls.Started, id=counter_id(tenant_id), tenant_id=tenant_id)

    def issue(self, number: int) -> None:
        self.trigger_event(self.NumberIssued, number=number)

    def issue_many(self, numbers: list[int]) -> None:
        if numbers:
            self.trigger_event(self.NumbersIssued, numbers=list(numbers))


_TOPIC = get_topic(NumberIndex)
