"""Imports by upload: the roster, the client list, intended access. Admins only.

The file is validated whole and committed in one transaction, or refused with its
problems (422: the first ``ERROR_LIMIT`` with file, row, column and reason, and the
total), exactly as ``accessrecon import`` does; ``agent.imports`` writes the audit
event with the file's SHA-256.

Uploads are bounded twice: ``server.body_limit.BodyLimit`` (with ``upload_limit``)
refuses a request body larger than ``ACCESSRECON_MAX_UPLOAD_MB`` (413) as it arrives,
before the multipart parser spools it to disk, and the import reads at most
``ACCESSRECON_IMPORT_MAX_ROWS`` rows.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from fastapi import APIRouter, HTTPException, UploadFile, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from agent.imports import ImportKind, ImportRejected, run_import
from server.deps import AdminUser, RuntimeDep, ServerSettingsDep
from server.schemas import Problem
from server.uploads import SUFFIXES, safe_filename

router = APIRouter(tags=["imports"])

UPLOAD_PREFIX = "/imports/"


class ImportOut(BaseModel):
    kind: ImportKind
    file: str
    rows: int
    created: int
    updated: int
    removed: int
    unchanged: int
    retained: int
    warnings: list[str]
    sha256: str


class RowErrorOut(BaseModel):
    file: str
    row: int | None
    column: str | None
    reason: str


class ImportRejectedOut(BaseModel):
    detail: str
    #: every problem found; ``errors`` lists the first of them (at most 100)
    total: int
    errors: list[RowErrorOut]


#: Room for the multipart framing and the form's small fields around the file itself.
_FORM_ALLOWANCE = 64 * 1024


def upload_limit(max_mb: int) -> tuple[int, str]:
    """The most bytes an import upload may send (the file and the form's framing), and
    what a larger one is told (``server.body_limit.BodyLimit``)."""
    return (
        max_mb * 1024 * 1024 + _FORM_ALLOWANCE,
        f"the file is larger than {max_mb} MB (ACCESSRECON_MAX_UPLOAD_MB)",
    )


@router.post(
    "/imports/{kind}",
    response_model=ImportOut,
    responses={
        413: {"model": Problem},
        422: {"model": ImportRejectedOut, "description": "every bad row, nothing changed"},
    },
)
async def post_import(
    kind: ImportKind,
    file: UploadFile,
    runtime: RuntimeDep,
    settings: ServerSettingsDep,
    admin: AdminUser,
) -> ImportOut | JSONResponse:
    """Upload a CSV or XLSX file of ``staff``, ``clients`` or ``access``."""
    name = safe_filename(file.filename)
    if not name.lower().endswith(SUFFIXES):
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, "upload a .csv or .xlsx file")
    limit = settings.max_upload_mb * 1024 * 1024
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        size = 0
        with path.open("wb") as handle:
            while chunk := await file.read(1024 * 1024):
                size += len(chunk)
                if size > limit:
                    raise HTTPException(
                        status.HTTP_413_CONTENT_TOO_LARGE,
                        f"the file is larger than {settings.max_upload_mb} MB",
                    )
                handle.write(chunk)
        try:
            # A large workbook takes a while to validate: off the event loop.
            result = await run_in_threadpool(
                run_import,
                runtime.engine,
                kind,
                path,
                practice_domains=runtime.settings.practice_domains,
                actor=admin.actor,
                max_rows=runtime.settings.import_max_rows,
            )
        except ImportRejected as exc:
            body = ImportRejectedOut(
                detail=exc.report(limit=0).splitlines()[0],
                total=exc.total,
                errors=[
                    RowErrorOut(file=e.file, row=e.row, column=e.column, reason=e.reason)
                    for e in exc.errors
                ],
            )
            return JSONResponse(body.model_dump(), status.HTTP_422_UNPROCESSABLE_CONTENT)
    return ImportOut(
        kind=result.kind,
        file=result.file,
        rows=result.rows,
        created=result.created,
        updated=result.updated,
        removed=result.removed,
        unchanged=result.unchanged,
        retained=result.retained,
        warnings=list(result.warnings),
        sha256=result.sha256,
    )
