"""The customers service's side of `customers.commands.v1`: import batches from the importer,
executed idempotently (a batch delivered again is recognised and changes nothing)."""

from __future__ import annotations

import asyncio

from pydantic import TypeAdapter

from contracts import CommandEnvelope

from .application import CustomerActor, CustomersApplication

_COMMAND: TypeAdapter[CommandEnvelope] = TypeAdapter(CommandEnvelope)


class ImportBatchHandler:
    def __init__(self, app: CustomersApplication) -> None:
        self.app = app

    def apply(self, position: int, body: bytes) -> bool:
        envelope = _COMMAND.validate_json(body)  # a command that breaks the contract fails
        batch = envelope.payload
        actor = CustomerActor(
            id=envelope.actor.id, name=envelope.actor.name, company_id=str(batch.company_id)
        )
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
        return self.app.execute_import_batch(str(envelope.tenant_id), actor, plain)

    async def handle(self, position: int, body: bytes) -> None:
        await asyncio.to_thread(self.apply, position, body)
