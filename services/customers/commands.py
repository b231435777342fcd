"""The customers service's side of `customers.commands.v1`: import batches from the importer,
executed idempotently (a batch delivered again is recognised and changes nothing)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import TypeAdapter

from contracts import CommandEnvelope

from .application import CustomerActor, CustomersApplication

_COMMAND: TypeAdapter[CommandEnvelope] = TypeAdapter(CommandEnvelope)
log = logging.getLogger("psa.customers")


class ImportBatchHandler:
    def __init__(
        self,
        app: CustomersApplication,
        cancelled: Callable[[str], Awaitable[bool]] | None = None,
    ) -> None:
        self.app = app
        # Whether the importer marked a job cancelled (`cancelled_import_key`): its batches
        # on their way are recorded as not executed.
        self.cancelled = cancelled

    def apply(self, position: int, body: bytes) -> bool:
        return self._execute(_COMMAND.validate_json(body), cancelled=False)

    def _execute(self, envelope: Any, cancelled: bool) -> bool:
        batch = envelope.payload
        actor = CustomerActor(
            id=envelope.actor.id, name=envelope.actor.name, company_id=str(batch.company_id)
        )
        tenant_id = str(envelope.tenant_id)
        if cancelled:
            return self.app.skip_cancelled_batch(tenant_id, actor, str(batch.job_id), batch.batch)
        rows = [
            {
                "row": r.row,
                "key": r.key,
                "customer": r.customer,
                "parent_number": r.parent_number,
                "given": r.given,
                "identity": r.identity,
            }
            for r in batch.rows
        ]
        plain = {
            "job_id": str(batch.job_id),
            "batch": batch.batch,
            "update_existing": batch.update_existing,
            "rows": rows,
            "reserved_numbers": batch.reserved_numbers or [],
        }
        return self.app.execute_import_batch(tenant_id, actor, plain)

    async def handle(self, position: int, body: bytes) -> None:
        # A command that breaks the contract fails here.
        envelope = await asyncio.to_thread(_COMMAND.validate_json, body)
        cancelled = False
        if self.cancelled is not None:
            try:
                cancelled = await self.cancelled(str(envelope.payload.job_id))
            except Exception as error:  # a hint: without it the batch is executed
                job_id = envelope.payload.job_id
                log.warning("could not ask whether import %s was cancelled: %s", job_id, error)
        await asyncio.to_thread(self._execute, envelope, cancelled)
