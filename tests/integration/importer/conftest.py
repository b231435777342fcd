"""The one-process system of the customers' tests, with the importer in it.

After each test, every message the importer reported in it must have its Finnish form (the
report an admin reads is in Finnish): a new message without one fails the test that makes it.
"""

from collections.abc import Iterator

import pytest

from services.importer.finnish import translated
from tests.integration.customers.conftest import System, system, system_config, tenant

__all__ = ["system", "system_config", "tenant"]


@pytest.fixture(autouse=True)
def every_message_in_finnish(request: pytest.FixtureRequest) -> Iterator[None]:
    if "system" not in request.fixturenames:
        yield
        return
    found: System = request.getfixturevalue("system")  # set up first, so torn down after
    yield
    importer = found.http.app.state.importer_app  # type: ignore[attr-defined]
    t = importer.tables
    with t.transaction(commit=False) as cursor:
        t.execute(cursor, f"SELECT DISTINCT message FROM {t.name('import_error')}")
        messages = [row["message"] for row in cursor.fetchall()]
    untranslated = [m for m in messages if translated(m) is None]
    assert not untranslated, f"messages without their Finnish form: {untranslated}"
