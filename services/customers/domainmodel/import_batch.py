"""What became of each row of an import batch: one aggregate per batch, whose id derives from
the job and the batch number, saved in the same transaction as the customers the batch
creates or changes. A batch delivered again finds it and changes nothing."""

from __future__ import annotations

from typing import Any, ClassVar
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from psa.domain import PlainStateCopy

from .customer import CustomerEvent

BATCH_NAMESPACE = uuid5(NAMESPACE_URL, "urn:psa:customer-import-batch")


def import_batch_id(job_id: str, batch: int) -> UUID:
    return uuid5(BATCH_NAMESPACE, f"{job_id}:{batch}")


class ImportBatchResult(PlainStateCopy, Aggregate):
    """The outcome of one batch of an import."""

    class Executed(CustomerEvent, Aggregate.Created):
        type_name: ClassVar[str] = "ImportBatchExecuted"
        section: ClassVar[str] = "import"
        job_id: str
        batch: int
        outcomes: list[dict[str, Any]]

        def apply(self, result: ImportBatchResult) -> None:
            result.tenant_id = self.tenant_id
            result.job_id = self.job_id
            result.batch = self.batch
            result.outcomes = list(self.outcomes)

    def __init__(self) -> None:
        self.tenant_id = ""
        self.job_id = ""
        self.batch = 0
        self.outcomes: list[dict[str, Any]] = []

    @classmethod
    def record(
        cls,
        *,
        tenant_id: str,
        actor: tuple[str, str],
        job_id: str,
        batch: int,
        outcomes: list[dict[str, Any]],
    ) -> ImportBatchResult:
        return cls._create(
            cls.Executed,
            id=import_batch_id(job_id, batch),
            tenant_id=tenant_id,
            actor_id=actor[0],
            actor_name=actor[1],
            job_id=job_id,
            batch=batch,
            outcomes=outcomes,
        )
