"""The AsyncAPI document of the streams, generated from the contracts with faststream.

.venv/bin/psa asyncapi > docs/asyncapi.json
.venv/bin/faststream docs gen contracts.asyncapi:asyncapi   (the same, as a file)
"""

from __future__ import annotations

import json

from faststream.redis import RedisBroker
from faststream.specification import AsyncAPI

from . import (
    CUSTOMER_COMMANDS_STREAM,
    CUSTOMERS_STREAM,
    SETTINGS_STREAM,
    CommandEnvelope,
    CustomerEnvelope,
    SettingsEnvelope,
)

broker = RedisBroker("redis://localhost:6379", description="The product's Redis")

broker.publisher(
    stream=SETTINGS_STREAM,
    schema=SettingsEnvelope,
    title=SETTINGS_STREAM,
    description="Tenants (companies, users) and every change of the customer settings, in "
    "the order of the settings service's event log; entry id `<position>-0`.",
)
broker.publisher(
    stream=CUSTOMERS_STREAM,
    schema=CustomerEnvelope,
    title=CUSTOMERS_STREAM,
    description="Customers created and changed and contact persons added, in the order of "
    "the customers service's event log; entry id `<position>-0`. The customers an import "
    "creates come in its batches' `ImportBatchExecuted` entries (`payload.created`, each a "
    "`CustomerCreated` whose `request_key` is `<job id>:<row>`), not one entry each; what "
    "an import updates comes as the usual change events.",
)

broker.publisher(
    stream=CUSTOMER_COMMANDS_STREAM,
    schema=CommandEnvelope,
    title=CUSTOMER_COMMANDS_STREAM,
    description="Batches of import rows for the customers service, in the order of the "
    "importer's event log; entry id `<position>-0`. Their outcomes come back on "
    f"{CUSTOMERS_STREAM} as ImportBatchExecuted.",
)

asyncapi = AsyncAPI(
    broker,
    title="PSA customer section streams",
    version="1",
    description="Events of the customer section. Each entry has the envelope as JSON in its "
    "`envelope` field and, for faststream readers, in `__data__`. Delivery is at least once, "
    "in order of position; a stream can be replayed from its start.",
)


def document_json() -> str:
    """The AsyncAPI 3.0 document as JSON, keys sorted so that it is the same every time."""
    document = json.loads(asyncapi.to_specification().to_json())
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
