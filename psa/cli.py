"""The `psa` command: run the system, create tenants, mint tokens, read the settings."""

from __future__ import annotations

import json
import os
import signal
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import httpx
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from .auth import load_secret, mint_token
from .config import Config

app = typer.Typer(
    help="PSA customer section: run it, set up tenants, read the settings.", no_args_is_help=True
)
tenant_app = typer.Typer(help="Tenants (operators).", no_args_is_help=True)
settings_app = typer.Typer(help="Customer settings of a tenant.", no_args_is_help=True)
app.add_typer(tenant_app, name="tenant")
app.add_typer(settings_app, name="settings")

console = Console()
err = Console(stderr=True)

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


def _config() -> Config:
    return Config()


def _operator_token(config: Config, tenant: UUID | str | None = None) -> str:
    # Whoever holds the signing secret is an operator: the CLI mints its own short token.
    return mint_token(
        load_secret(config),
        sub="operator",
        name="Operator",
        tenant=tenant,
        roles=["operator"],
        ttl_hours=0.25,
    )


def _request(config: Config, method: str, path: str, token: str, **kwargs: Any) -> Any:
    try:
        response = httpx.request(
            method,
            config.url.rstrip("/") + path,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
            **kwargs,
        )
    except httpx.HTTPError as error:
        err.print(f"[red]Cannot reach the API at {config.url}:[/] {error}")
        err.print("Is it running? Start it with [bold]make up[/] (or set PSA_URL).")
        raise typer.Exit(2) from None
    if response.status_code >= 400:
        errors: list[Any] = []
        try:
            body = response.json()
            message = body.get("detail") or body
            errors = body.get("errors") or []
        except ValueError:
            message = response.text
        # The API's text is printed as it is: a column name such as 'Nimi [vanha]' is no markup.
        # With field errors the detail only repeats them: they are printed one a line.
        err.print(
            f"[red]{response.status_code}[/]" + ("" if errors else f" {escape(str(message))}")
        )
        for problem in errors:  # RFC 9457 problem details: what is wrong, field by field
            err.print(escape(f"  {problem.get('field')}: {problem.get('message')}"))
        if response.status_code == 401:
            err.print(
                "The API did not take the token. The psa command signs its own tokens with the "
                f"secret in {config.data_dir.resolve()} (PSA_DATA_DIR) or PSA_JWT_SECRET: use "
                "the API's."
            )
        raise typer.Exit(1)
    return response.json()


# ---------------------------------------------------------------- up
@app.command()
def up(
    host: Annotated[str | None, typer.Option(help="Interface to listen on")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Run every service in one process on embedded defaults (SQLite, embedded Redis); the
    customers service keeps its list and relay in a second process (PSA_BACKGROUND_PROCESS)."""
    import uvicorn

    from .app import create_app
    from .embedded import start_embedded_redis
    from .gc_tuning import tune_gc

    config = _config()
    if host:
        config.host = host
    if port:
        config.port = port
    config.data_dir.mkdir(parents=True, exist_ok=True)
    embedded = None
    if not config.redis_url:
        embedded = start_embedded_redis(config.data_dir)
        config.redis_url = embedded.url
        os.environ["REDIS_URL"] = embedded.url
    base = f"http://{config.host}:{config.port}"
    store = (
        f"PostgreSQL {config.postgres_host}:{config.postgres_port}/{config.postgres_dbname}"
        if config.uses_postgres
        else f"SQLite files in {config.data_dir.resolve()}"
    )
    console.print(f"[bold green]PSA customer section[/] on [bold]{base}[/]")
    console.print(f"  API docs:  {base}/docs")
    console.print(f"  store:     {store}")
    console.print(f"  Redis:     {config.redis_url}{' (embedded)' if embedded else ''}")
    console.print("Create a tenant and get its admin token, in another terminal:")
    # The psa command finds this API and its token secret where this process does.
    where = ""
    if base != Config.model_fields["url"].default:
        where += f"PSA_URL={base} "
    if "PSA_DATA_DIR" in os.environ:  # set for this process: the command needs it too
        where += f"PSA_DATA_DIR={config.data_dir.resolve()} "
    console.print(
        f'  [bold]{where}.venv/bin/psa tenant create "Konserni Oy" --company "Yhtiö A" '
        '--company "Yhtiö B"[/]'
    )
    console.print('Then call the API with  -H "Authorization: Bearer $TOKEN"')
    # uvicorn re-raises the signal that stopped it; make SIGTERM an orderly exit so that the
    # embedded Redis is stopped below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    application = create_app(config, background=config.background_process)
    tune_gc()
    try:
        uvicorn.run(
            application,
            host=config.host,
            port=config.port,
            log_level=config.log_level,
        )
    finally:
        if embedded is not None:
            embedded.stop()


@app.command()
def asyncapi() -> None:
    """Print the AsyncAPI document of the streams (generated from the contracts)."""
    from contracts.asyncapi import document_json

    print(document_json(), end="")


# ---------------------------------------------------------------- tenants
@tenant_app.command("create")
def tenant_create(
    name: Annotated[str, typer.Argument(help="The tenant's name")],
    company: Annotated[
        list[str], typer.Option("--company", help="A company of the tenant (repeat for more)")
    ],
    admin_id: Annotated[str, typer.Option(help="User id of the first admin")] = "admin",
    admin_name: Annotated[str, typer.Option(help="Name of the first admin")] = "Admin",
    as_json: JsonOption = False,
) -> None:
    """Create a tenant with its companies; prints its id, company ids and an admin token."""
    config = _config()
    tenant = _request(
        config,
        "POST",
        "/api/v1/tenants",
        _operator_token(config),
        json={"name": name, "companies": company, "admin": {"id": admin_id, "name": admin_name}},
    )
    admin = tenant["users"][0]
    token = mint_token(
        load_secret(config),
        sub=admin["id"],
        name=admin["name"],
        tenant=tenant["id"],
        company=admin["company_id"],
        companies=admin["company_ids"],
        roles=admin["roles"],
        ttl_hours=config.token_ttl_hours,
    )
    if as_json:
        print(json.dumps({"tenant": tenant, "admin_token": token}))
        return
    console.print(f"Tenant [bold]{tenant['name']}[/]  id [bold cyan]{tenant['id']}[/]")
    table = Table("company", "id")
    for item in tenant["companies"]:
        table.add_row(item["name"], item["id"])
    console.print(table)
    console.print(f"Admin [bold]{admin['id']}[/] token (valid {config.token_ttl_hours:g} h):")
    print(token)


@app.command()
def token(
    tenant: Annotated[str, typer.Option(help="Tenant id")],
    user: Annotated[str, typer.Option(help="User id")],
    company: Annotated[
        str | None, typer.Option(help="The company the user acts in (default: their own)")
    ] = None,
    role: Annotated[
        list[str] | None,
        typer.Option(help="Roles to put in the token (default: the user's roles)"),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Mint a bearer token for a user of a tenant."""
    config = _config()
    data = _request(config, "GET", f"/api/v1/tenants/{tenant}", _operator_token(config, tenant))
    users = {u["id"]: u for u in data["users"]}
    if user not in users:
        err.print(f"[red]No user '{user}' in tenant {tenant}.[/] Users: {', '.join(users)}")
        raise typer.Exit(1)
    record = users[user]
    acting = company or record["company_id"]
    if acting not in record["company_ids"]:
        err.print(f"[red]User '{user}' has no access to company {acting}.[/]")
        raise typer.Exit(1)
    roles = role or record["roles"]
    extra = sorted(set(roles) - set(record["roles"]))
    if extra:
        err.print(f"[red]User '{user}' does not have the role(s) {', '.join(extra)}.[/]")
        raise typer.Exit(1)
    value = mint_token(
        load_secret(config),
        sub=record["id"],
        name=record["name"],
        tenant=tenant,
        company=acting,
        companies=record["company_ids"],
        roles=roles,
        ttl_hours=config.token_ttl_hours,
    )
    if as_json:
        print(json.dumps({"token": value}))
    else:
        print(value)


# ---------------------------------------------------------------- settings
TokenOption = Annotated[
    str | None, typer.Option(envvar="PSA_TOKEN", help="Bearer token (or set PSA_TOKEN)")
]
TenantOption = Annotated[
    str | None, typer.Option(help="Tenant id: read as the operator, without a user token")
]


def _reader_token(config: Config, token_value: str | None, tenant: str | None) -> str:
    if token_value:
        return token_value
    if tenant:
        return _operator_token(config, tenant)
    err.print("[red]Give --token (or PSA_TOKEN), or --tenant.[/]")
    raise typer.Exit(2)


def _time(value: str | None, option: str) -> datetime | None:
    """ISO 8601 from the command line; a time without a zone is the local time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not an ISO 8601 time", param_hint=option) from None
    return moment if moment.tzinfo else moment.astimezone()


def _yes(value: bool) -> str:
    return "yes" if value else ""


@settings_app.command("show")
def settings_show(
    token: TokenOption = None,
    tenant: TenantOption = None,
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Show the settings as of this time (ISO 8601; local time unless it names a zone)",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show every customer setting of a tenant, now or as of a time."""
    config = _config()
    when = _time(as_of, "--as-of")
    params = {"as_of": when.isoformat()} if when else None
    data = _request(
        config,
        "GET",
        "/api/v1/settings/customers",
        _reader_token(config, token, tenant),
        params=params,
    )
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    console.print(
        f"Settings of tenant {data['tenant_id']}, version {data['version']}"
        + (f", as of {when.isoformat()}" if when else "")
    )
    types = Table(
        "customer type",
        "default for",
        "invoicing",
        "archived",
        "id",
        title="Customer types (asiakastyypit)",
    )
    for item in data["customer_types"]:
        roles = [r for r in ("customer", "subcontractor", "consumer") if item[f"default_{r}"]]
        types.add_row(
            item["name"],
            ", ".join(roles),
            _yes(item["invoicing_allowed"]),
            _yes(item["archived"]),
            item["id"],
        )
    console.print(types)
    groups = Table(
        "customer group",
        "integration id",
        "archived",
        "id",
        title="Customer groups (asiakasryhmät)",
    )
    for item in data["customer_groups"]:
        groups.add_row(
            item["name"], item["integration_id"] or "", _yes(item["archived"]), item["id"]
        )
    console.print(groups)
    company_groups = Table("company group", "archived", "id", title="Company groups (yritysryhmät)")
    for item in data["company_groups"]:
        company_groups.add_row(item["name"], _yes(item["archived"]), item["id"])
    console.print(company_groups)
    fields = Table(
        "field",
        "type",
        "options",
        "list",
        "mandatory",
        "reports",
        "HubSpot",
        "archived",
        title="Additional fields (lisäkentät), in order",
    )
    for item in data["fields"]:
        options = ", ".join(
            o["name"] + (" (archived)" if o["archived"] else "") for o in item["options"]
        )
        fields.add_row(
            item["name"],
            item["type"],
            options,
            _yes(item["shown_in_details_and_list"]),
            _yes(item["mandatory"]),
            _yes(item["shown_in_reports"]),
            item["hubspot_property_id"] or "",
            _yes(item["archived"]),
        )
    console.print(fields)
    general = Table("setting", "value", title="General")
    numbering = data["numbering"]
    general.add_row(
        "numbering",
        numbering["mode"]
        + (f" (next {numbering['next_number']})" if numbering["mode"] == "automatic" else ""),
    )
    general.add_row("default hierarchy filter", data["hierarchy_filter"])
    for key, value in data["multi_company"].items():
        general.add_row(key.replace("_", " "), str(value if value is not None else "-"))
    console.print(general)


@settings_app.command("history")
def settings_history(
    token: TokenOption = None,
    tenant: TenantOption = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601)")] = None,
    until: Annotated[str | None, typer.Option(help="Up to this time (ISO 8601)")] = None,
    actor: Annotated[str | None, typer.Option(help="Only changes by this user id")] = None,
    section: Annotated[str | None, typer.Option(help="Only this section, e.g. fields")] = None,
    limit: Annotated[int, typer.Option(help="How many changes, newest first")] = 50,
    as_json: JsonOption = False,
) -> None:
    """Show who changed which setting when, with the values before and after."""
    config = _config()
    params: dict[str, Any] = {"limit": limit}
    for key, value in (("since", since), ("until", until)):
        moment = _time(value, f"--{key}")
        if moment is not None:
            params[key] = moment.isoformat()
    if actor:
        params["actor"] = actor
    if section:
        params["section"] = section
    data = _request(
        config,
        "GET",
        "/api/v1/settings/customers/history",
        _reader_token(config, token, tenant),
        params=params,
    )
    if as_json:
        print(json.dumps(data, indent=2, ensure_ascii=False))
        return
    table = Table(title=f"Settings history ({data['total']} changes)")
    table.add_column("pos", justify="right")
    table.add_column("time")
    table.add_column("actor")
    table.add_column("change", overflow="fold")
    table.add_column("what changed", overflow="fold")
    for item in data["items"]:
        table.add_row(
            str(item["position"]),
            item["occurred_at"][:19].replace("T", " "),
            f"{item['actor']['name']} ({item['actor']['id']})",
            item["type"],
            _describe(item["before"], item["after"]),
        )
    console.print(table)


def _describe(before: Any, after: Any) -> str:
    """The values that changed, as `key: old -> new`."""
    if isinstance(before, dict) and isinstance(after, dict):
        changed = [key for key in after if before.get(key) != after.get(key)]
        return "; ".join(
            f"{key}: {_short(before.get(key), 30)} → {_short(after.get(key), 30)}"
            for key in changed
        )
    if before is None and isinstance(after, dict) and "customer_types" in after:
        return "created with the built-in types Asiakas and Alihankkija"
    if before is None and isinstance(after, dict) and "name" in after:
        return f"added {after['name']!r}"
    return f"{_short(before)} → {_short(after)}"


def _short(value: Any, limit: int = 80) -> str:
    if value is None:
        return ""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


if __name__ == "__main__":  # pragma: no cover
    app()


# ---------------------------------------------------------------- import
@app.command("import")
def import_file(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".xlsx or .csv")],
    token: TokenOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Check the rows only (with --wait: exit 1 if a row has errors)"
        ),
    ] = False,
    skip_errors: Annotated[
        bool, typer.Option("--skip-errors", help="Import the valid rows, report the others")
    ] = False,
    update_existing: Annotated[
        bool,
        typer.Option(
            "--update-existing",
            help="Update the customer whose business id (else number) a row has; without it "
            "such a row is skipped",
        ),
    ] = False,
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            help='A file column and the import column it feeds, "Firma=Nimi" (repeat for '
            'more); "Muistiinpanot=" leaves a column out',
        ),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the import to its end")] = False,
    as_json: JsonOption = False,
) -> None:
    """Import a customer register; with --wait, show its progress and the summary, and write
    the error report next to the file."""
    config = _config()
    columns: dict[str, str | None] = {}
    for item in mapping or []:
        source, equals, target = item.rpartition("=")
        if not equals or not source.strip():
            raise typer.BadParameter(
                f"'{item}' is not FILE COLUMN=IMPORT COLUMN", param_hint="--map"
            )
        columns[source.strip()] = target.strip() or None
    if not token:
        err.print("[red]Give an admin's token with --token (or PSA_TOKEN).[/]")
        raise typer.Exit(2)
    with file.open("rb") as handle:
        job = _request(
            config,
            "POST",
            "/api/v1/imports",
            token,
            files={"file": (file.name, handle)},
            data={
                "dry_run": str(dry_run).lower(),
                "skip_errors": str(skip_errors).lower(),
                "update_existing": str(update_existing).lower(),
                **({"mapping": json.dumps(columns, ensure_ascii=False)} if columns else {}),
            },
        )
    job = _show(config, token, job, wait, as_json)
    report = file.with_name(file.stem + ".virheet.csv")
    if wait and job["status"] != "completed":
        response = httpx.get(
            config.url.rstrip("/") + f"/api/v1/imports/{job['id']}/errors?format=csv",
            headers={"Authorization": f"Bearer {token}"},
            timeout=120,
        )
        report.write_bytes(response.content)
        err.print(f"Errors by row: [bold]{report}[/]")
    elif wait:
        report.unlink(missing_ok=True)  # an earlier run's report would tell of errors gone
    if job["status"] == "failed" or (wait and dry_run and job.get("failed")):
        raise typer.Exit(1)  # as a check does: a dry run that found errors fails


@app.command("retry-import")
def retry_import(
    job_id: Annotated[str, typer.Argument(help="The import's id")],
    token: TokenOption = None,
    wait: Annotated[bool, typer.Option("--wait", help="Follow the import to its end")] = False,
    as_json: JsonOption = False,
) -> None:
    """Send again the rows of an import that the customers service gave up on (their errors
    name customers.commands.v1.dlq), once the cause is mended: no row creates a second
    customer."""
    config = _config()
    if not token:
        err.print("[red]Give an admin's token with --token (or PSA_TOKEN).[/]")
        raise typer.Exit(2)
    job = _request(config, "POST", f"/api/v1/imports/{job_id}/retry", token)
    _show(config, token, job, wait, as_json)


def _show(
    config: Config, token: str, job: dict[str, Any], wait: bool, as_json: bool
) -> dict[str, Any]:
    """Follow the job to its end (with `wait`) and show it; the job as it ended."""
    if wait:
        job = _follow(config, token, job)
    if as_json:
        print(json.dumps(job))
    else:
        _summary(job)
    return job


def _follow(config: Config, token: str, job: dict[str, Any]) -> dict[str, Any]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    with Progress(
        TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), console=err
    ) as progress:
        task = progress.add_task("queued", total=None)
        while job["status"] in ("queued", "validating", "running"):
            time.sleep(0.5)
            job = _request(config, "GET", f"/api/v1/imports/{job['id']}", token)
            checking = job["status"] in ("queued", "validating")
            progress.update(
                task,
                description=job["status"],
                # While the file is checked its length is an estimate (0: not known).
                total=job["total_rows"] or None,
                completed=job.get("checked", 0) if checking else job["processed"],
            )
    return job


def _summary(job: dict[str, Any]) -> None:
    dry_run = bool(job.get("options", {}).get("dry_run"))
    table = Table(
        title="Import, dry run: nothing was created or changed" if dry_run else "Import",
        show_header=False,
    )
    table.add_row("id", job["id"])
    table.add_row("status", job["status"])
    for key in ("total_rows", "processed", "created", "updated", "unchanged", "skipped", "failed"):
        label = key.replace("_", " ")
        if dry_run and key in ("created", "updated", "skipped"):
            label = f"would be {label}"
        elif dry_run and key == "unchanged":
            continue  # a dry run does not tell them from the updated
        table.add_row(label, str(job.get(key, 0)))
    if job.get("unknown_columns"):
        table.add_row("columns not imported", ", ".join(job["unknown_columns"]))
    if job.get("problem"):
        table.add_row("problem", job["problem"])
    console.print(table)
