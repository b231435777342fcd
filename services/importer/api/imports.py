"""Imports: the template, uploads, a job's status and errors, cancelling, sending again what
the customers service gave up on. Admins only.

An upload is checked as a file at once (empty, another format, a protected or broken
workbook: 422) and answered 202 with its job; the rows are checked in the background."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

from psa.auth import Principal
from psa.customer_rules.projection import SettingsProjection
from psa.customer_rules.settings_view import SettingsView
from psa.errors import DomainError, NotReadyError, PermissionDeniedError, ValidationFailed
from psa.http import POSITION_HEADER, TenantPrincipal
from psa.spreadsheet import neutralize

from ..application import ImporterApplication, check_options, new_upload_path
from ..columns import columns, map_headers, mapping_problems
from ..reader import MAX_BYTES, FileProblem, open_sheet
from ..schemas import ImportErrorPage, ImportJobPage, ImportJobPublic, problems
from ..template import template_csv, template_xlsx

router = APIRouter(
    prefix="/api/v1/imports", tags=["imports"], responses=problems(401, 403, 404, 422)
)
SETTINGS_WAIT_SECONDS = 2.0
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UnreadableFile(DomainError):
    title = "The file cannot be imported"
    type_slug = "unreadable-file"


class TooLarge(DomainError):
    status = 413
    title = "The file is too large"
    type_slug = "too-large"


def get_app(request: Request) -> ImporterApplication:
    app: ImporterApplication = request.app.state.importer_app
    return app


def admin(principal: TenantPrincipal) -> Principal:
    if not principal.is_admin:
        raise PermissionDeniedError("importing customers needs the admin role")
    if not principal.company:
        raise DomainError(
            "the token names no company to import into: get one with --company", "company"
        )
    return principal


App = Annotated[ImporterApplication, Depends(get_app)]
Admin = Annotated[Principal, Depends(admin)]


def settings_view(
    request: Request,
    principal: Admin,
    position: Annotated[int | None, Header(alias=POSITION_HEADER)] = None,
) -> SettingsView:
    projection: SettingsProjection = request.app.state.importer_settings
    if position is not None and not projection.wait_for(position, SETTINGS_WAIT_SECONDS):
        raise NotReadyError(
            f"the settings change at position {position} has not reached the importer yet",
            POSITION_HEADER,
        )
    view = projection.view(str(principal.tenant))
    if view is None:
        raise NotReadyError("the tenant's settings have not reached the importer yet")
    return view


Settings = Annotated[SettingsView, Depends(settings_view)]


@router.get(
    "/template",
    summary="The import template, made from the current settings",
    description="A column per standard field and per additional field, headers in Finnish "
    "(English names are accepted on upload). The XLSX has a second sheet, Ohjeet, with each "
    "column's format, whether it is required and its allowed values.",
    response_class=Response,
    responses={
        200: {
            "description": "The template",
            "content": {XLSX: {}, "text/csv": {}},
        },
        **problems(503),
    },
)
def template(settings: Settings, format: Literal["xlsx", "csv"] = "xlsx") -> Response:
    if format == "csv":
        return Response(
            template_csv(settings),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="asiakkaat-pohja.csv"'},
        )
    return Response(
        template_xlsx(settings),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="asiakkaat-pohja.xlsx"'},
    )


@router.post(
    "",
    status_code=202,
    summary="Upload a file to import (checked in the background)",
    description="Answers at once with the import (`queued`) and its `Location`; follow it "
    "with `GET /api/v1/imports/{id}`. Headers are matched to columns by name (Finnish or "
    "English, case and accents aside) unless `mapping` is given; columns not imported are "
    "reported in `unknown_columns`. An empty, foreign, protected or broken file, or a file "
    "without any of the import's columns, is refused (422, naming `file`).",
    response_model=ImportJobPublic,
    responses=problems(413, 503),
)
def upload(
    app: App,
    principal: Admin,
    settings: Settings,
    response: Response,
    file: Annotated[UploadFile, File(description="An .xlsx or .csv file")],
    dry_run: Annotated[bool, Form(description="Check and report only")] = False,
    skip_errors: Annotated[
        bool, Form(description="Import the valid rows (else one invalid row stops the import)")
    ] = False,
    update_existing: Annotated[
        bool,
        Form(description="Update a customer with the row's business id (else number)"),
    ] = False,
    mapping: Annotated[
        str | None,
        Form(description="JSON: file column → column of the import, or null to leave it out"),
    ] = None,
) -> dict[str, Any]:
    options = {"dry_run": dry_run, "skip_errors": skip_errors, "update_existing": update_existing}
    check_options(options)
    columns_given: dict[str, str | None] | None = None
    if mapping:
        try:
            columns_given = json.loads(mapping)
        except ValueError:
            raise DomainError("must be a JSON object of column names", "mapping") from None
        if not isinstance(columns_given, dict) or not all(
            isinstance(v, str | None) for v in columns_given.values()
        ):
            raise DomainError("must map file columns to a column name or null", "mapping")
    path = new_upload_path(app.files / "incoming")
    size = 0
    try:
        with path.open("wb") as target:
            while chunk := file.file.read(1024 * 1024):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise TooLarge(
                        f"the file is larger than {MAX_BYTES // (1024 * 1024)} MiB", "file"
                    )
                target.write(chunk)
        filename = file.filename or "upload"
        try:
            sheet = open_sheet(path, filename)
        except FileProblem as problem:
            raise UnreadableFile(problem.message, "file") from None
        known = columns(settings)
        if columns_given:
            problems = mapping_problems(sheet.headers(), known, columns_given)
            if problems:
                raise ValidationFailed(problems)
        elif not map_headers(sheet.headers(), known).positions:
            raise UnreadableFile(
                "the file's first row has none of the import's columns (such as Nimi or "
                "Y-tunnus): is it the file of customers? The template "
                "(GET /api/v1/imports/template) has every column",
                "file",
            )
        job = app.queue(
            tenant_id=str(principal.tenant),
            company_id=str(principal.company),
            actor_id=principal.sub,
            actor_name=principal.name,
            filename=filename,
            upload=path,
            options=options,
            mapping=columns_given,
        )
    finally:
        path.unlink(missing_ok=True)
    response.headers["Location"] = f"/api/v1/imports/{job.id}"
    return job.as_dict()


@router.get("", summary="The tenant's imports, newest first", response_model=ImportJobPage)
def list_imports(
    app: App,
    principal: Admin,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    tenant_id = str(principal.tenant)
    page, total = app.imports(tenant_id, offset, limit)
    return _page([app.describe(tenant_id, job_id) for job_id in page], total, offset)


def _page(items: list[Any], total: int, offset: int) -> dict[str, Any]:
    """A page of a list, with the `offset` of the next one (None on the last)."""
    following = offset + len(items)
    return {"items": items, "total": total, "next_offset": following if following < total else None}


@router.get("/{job_id}", summary="An import's status and counts", response_model=ImportJobPublic)
def status(app: App, principal: Admin, job_id: UUID) -> dict[str, Any]:
    return app.describe(str(principal.tenant), job_id)


@router.post(
    "/{job_id}/cancel",
    summary="Stop an import between batches",
    description="No more batches are sent, and those sent but not executed yet are not "
    "executed either; the import ends `cancelled` with the counts of the rows accounted "
    "for. 409 if it has ended already.",
    response_model=ImportJobPublic,
    responses=problems(409),
)
def cancel(app: App, principal: Admin, job_id: UUID) -> dict[str, Any]:
    app.cancel(str(principal.tenant), job_id)
    return app.describe(str(principal.tenant), job_id)


@router.post(
    "/{job_id}/retry",
    status_code=202,
    summary="Send again the batches the customers service gave up on",
    description="For an import that ended `completed_with_errors` because the customers "
    "service gave up on some of its batches (their rows' errors name "
    "`customers.commands.v1.dlq`): once the cause is mended, the same rows are sent again "
    "with the same keys, so none creates a second customer. 409 if there is nothing to send "
    "again.",
    response_model=ImportJobPublic,
    responses=problems(409),
)
def retry(app: App, principal: Admin, job_id: UUID) -> dict[str, Any]:
    app.retry(str(principal.tenant), job_id)
    return app.describe(str(principal.tenant), job_id)


@router.get(
    "/{job_id}/errors",
    summary="The errors of an import, row by row",
    description="Every error of every row, with the row's number in the file and the "
    "column's header, in row order: JSON a page at a time (each message in English and in "
    "Finnish), or with `format=csv` the whole report as a semicolon-separated file (UTF-8 "
    "with BOM; columns Rivi, Sarake, Virhe, the messages in Finnish; with `lang=en` columns "
    "Row, Column, Error in English).",
    response_model=ImportErrorPage,
    responses={200: {"content": {"text/csv": {}}}},
)
def errors(
    app: App,
    principal: Admin,
    job_id: UUID,
    format: Literal["json", "csv"] = "json",
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    lang: Literal["fi", "en"] = "fi",
) -> Any:
    app.job(str(principal.tenant), job_id)
    if format == "csv":
        return StreamingResponse(
            _error_lines(app, job_id, lang),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="virheet-{job_id}.csv"'},
        )
    items, total = app.errors(job_id, offset, limit)
    return _page(items, total, offset)


def _error_lines(app: ImporterApplication, job_id: UUID, lang: str) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(["Rivi", "Sarake", "Virhe"] if lang == "fi" else ["Row", "Column", "Error"])
    key = "message_fi" if lang == "fi" else "message"
    for count, error in enumerate(app.all_errors(job_id), start=1):
        column = error["column"]
        if lang == "fi" and error["row"] == 0 and column == "file":  # the file as a whole
            column = "tiedosto"
        writer.writerow([error["row"], neutralize(column), neutralize(error[key])])
        if count % 500 == 0:
            yield buffer.getvalue().encode()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode()
