"""The one-process system of the customers' tests, with the importer in it."""

from tests.integration.customers.conftest import system, system_config, tenant

__all__ = ["system", "system_config", "tenant"]
