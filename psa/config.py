"""One documented set of environment variables for every service and the `psa` command."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Config(BaseSettings):
    """Configuration read from the environment (and a `.env` file in the working directory).

    The store and Redis names are the ones the eventsourcing and redis libraries use, so an
    operator sets each thing once.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    data_dir: Path = Field(
        Path("data"),
        validation_alias="PSA_DATA_DIR",
        description="SQLite files, the generated token secret and the embedded Redis live here",
    )
    persistence_module: str = Field(
        "eventsourcing.sqlite",
        validation_alias="PERSISTENCE_MODULE",
        description="eventsourcing.sqlite (default) or eventsourcing.postgres",
    )
    postgres_host: str = Field("127.0.0.1", validation_alias="POSTGRES_HOST")
    postgres_port: int = Field(5432, validation_alias="POSTGRES_PORT")
    postgres_dbname: str = Field("psa", validation_alias="POSTGRES_DBNAME")
    postgres_user: str = Field("postgres", validation_alias="POSTGRES_USER")
    postgres_password: SecretStr = Field(SecretStr(""), validation_alias="POSTGRES_PASSWORD")
    schema_prefix: str = Field(
        "",
        validation_alias="PSA_SCHEMA_PREFIX",
        description="Prefix of each service's PostgreSQL schema (`<prefix>settings`, ...)",
    )
    redis_url: str | None = Field(
        None,
        validation_alias="REDIS_URL",
        description="Unset: an embedded Redis under the data dir",
    )
    stream_prefix: str = Field(
        "",
        validation_alias="PSA_STREAM_PREFIX",
        description="Prefix of every stream name (to run several systems on one Redis)",
    )
    stream_idle_ms: int = Field(
        5000,
        validation_alias="PSA_STREAM_IDLE_MS",
        description="After this long a crashed consumer's entries (and lease) are taken over",
    )
    stream_retention: Literal["all", "acknowledged"] = Field(
        "all",
        validation_alias="PSA_STREAM_RETENTION",
        description="What the streams keep: their whole history (all), or the entries not yet "
        "acknowledged by every consumer group of the stream (acknowledged; a group created "
        "later starts from what is left)",
    )
    import_concurrency: int = Field(
        2,
        ge=1,
        validation_alias="PSA_IMPORT_CONCURRENCY",
        description="Import jobs an importer runs at once (a tenant's jobs run one at a time)",
    )
    jwt_secret: SecretStr | None = Field(
        None,
        validation_alias="PSA_JWT_SECRET",
        description="HS256 secret of the bearer tokens; unset: generated into the data dir",
    )
    token_ttl_hours: float = Field(12.0, validation_alias="PSA_TOKEN_TTL_HOURS")
    host: str = Field("127.0.0.1", validation_alias="PSA_HOST")
    port: int = Field(8000, validation_alias="PSA_PORT")
    url: str = Field(
        "http://127.0.0.1:8000",
        validation_alias="PSA_URL",
        description="Where the `psa` command finds the API",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", validation_alias=AliasChoices("PSA_LOG_LEVEL")
    )
    root_path: str = Field(
        "",
        validation_alias="PSA_ROOT_PATH",
        description="The path a reverse proxy serves this service under, if any (compose: "
        "/settings, /customers, /importer): its API docs load its OpenAPI document from there",
    )
    background_process: bool = Field(
        True,
        validation_alias="PSA_BACKGROUND_PROCESS",
        description="The customers service (run on its own, or by `psa up`) keeps its customer "
        "list and its relay in a second process, on another core; false: threads of the one "
        "process",
    )

    @field_validator("jwt_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and 0 < len(value.get_secret_value()) < 32:
            raise ValueError("PSA_JWT_SECRET must be at least 32 characters")
        return value

    def stream(self, name: str) -> str:
        """The full name of a stream of `contracts` in this deployment."""
        return self.stream_prefix + name

    @property
    def uses_postgres(self) -> bool:
        return self.persistence_module in ("eventsourcing.postgres", "postgres")
