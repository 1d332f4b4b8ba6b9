"""Imports: upload the roster, the client list or intended access. Practice admins only.

The file goes through ``agent.imports.run_import`` exactly as the API's upload does:
validated whole and committed in one transaction, or refused with every bad row
(file, row, column, reason) and nothing changed. ``agent.imports`` writes the
``import.*`` audit event, with the admin as actor and the file's SHA-256.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response

from agent.imports import COLUMNS, ImportKind, ImportRejected, run_import
from server.dashboard.filters import one
from server.dashboard.web import AdminDep, FormAdminDep, render
from server.deps import RuntimeDep, ServerSettingsDep
from server.uploads import SUFFIXES, safe_filename

router = APIRouter()

CHUNK = 1024 * 1024


def _page(request: Request, viewer: AdminDep, *, status: int = 200, **context: object) -> Response:
    base: dict[str, object] = {
        "kinds": list(ImportKind),
        "columns": COLUMNS,
        "result": None,
        "rejected": None,
        "error": "",
        "chosen": "",
    }
    return render(request, "imports.html", viewer, status_code=status, **{**base, **context})


@router.get("/imports")
def imports_page(request: Request, viewer: AdminDep) -> Response:
    return _page(request, viewer)


@router.post("/imports")
def upload(
    request: Request,
    runtime: RuntimeDep,
    settings: ServerSettingsDep,
    viewer: FormAdminDep,
    kind: Annotated[str, Form(max_length=16)] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    which = one(ImportKind, kind)
    if which is None:
        return _page(request, viewer, status=422, error="Choose what the file holds.")
    if file is None or not file.filename:
        return _page(request, viewer, status=422, chosen=which.value, error="Choose a file.")
    name = safe_filename(file.filename)
    if not name.lower().endswith(SUFFIXES):
        return _page(
            request, viewer, status=422, chosen=which.value, error="Upload a .csv or .xlsx file."
        )
    limit = settings.max_upload_mb * CHUNK
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        with path.open("wb") as handle:
            shutil.copyfileobj(file.file, handle, CHUNK)
        if path.stat().st_size > limit:
            return _page(
                request,
                viewer,
                status=413,
                chosen=which.value,
                error=f"The file is larger than {settings.max_upload_mb} MB.",
            )
        try:
            result = run_import(
                runtime.engine,
                which,
                path,
                practice_domains=runtime.settings.practice_domains,
                actor=viewer.principal.actor,
                max_rows=runtime.settings.import_max_rows,
            )
        except ImportRejected as exc:
            return _page(request, viewer, status=422, chosen=which.value, rejected=exc)
    return _page(request, viewer, chosen=which.value, result=result)
