"""Small file writers and loaders the import tests share."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from sqlalchemy import Engine
from sqlmodel import select

from agent.imports import ImportRejected, ImportResult, run_import
from agent.storage.db import session_scope
from agent.storage.models import Client, ClientOrgLink, IntendedAccess, Staff, StaffEmail

DOMAINS = ["practice.example"]
MYOB_ID = "3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f"
MYOB_ID_2 = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"


def write_csv(
    path: Path,
    header: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    delimiter: str = ",",
    bom: bool = False,
) -> Path:
    with path.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_xlsx(
    path: Path, header: Sequence[Any], rows: Sequence[Sequence[Any]], *, notes_sheet: bool = False
) -> Path:
    """The rows in the first sheet; ``notes_sheet`` adds a second one, never read."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    if notes_sheet:
        workbook.create_sheet("Notes").append(["this second sheet is not read"])
    workbook.save(path)
    return path


def load(engine: Engine, kind: str, path: Path, **kwargs: Any) -> ImportResult:
    return run_import(engine, kind, path, practice_domains=DOMAINS, **kwargs)


def rejected(engine: Engine, kind: str, path: Path, **kwargs: Any) -> ImportRejected:
    with pytest.raises(ImportRejected) as caught:
        load(engine, kind, path, **kwargs)
    return caught.value


def where(error: ImportRejected) -> list[tuple[str, int | None, str | None]]:
    return [(e.file, e.row, e.column) for e in error.errors]


def staff_of(engine: Engine) -> dict[str, Staff]:
    """Every roster address to its staff member."""
    with session_scope(engine) as session:
        members = {s.id: s for s in session.exec(select(Staff))}
        return {e.email: members[e.staff_id] for e in session.exec(select(StaffEmail))}


def links_of(engine: Engine) -> dict[str, set[tuple[str, str]]]:
    """Every client id to its (portal, org id) links."""
    with session_scope(engine) as session:
        ids = {c.id: c.external_id for c in session.exec(select(Client))}
        out: dict[str, set[tuple[str, str]]] = {key: set() for key in ids.values()}
        for link in session.exec(select(ClientOrgLink)):
            out[ids[link.client_id]].add((link.portal, link.portal_org_id))
        return out


def clients_of(engine: Engine) -> dict[str, Client]:
    with session_scope(engine) as session:
        return {c.external_id: c for c in session.exec(select(Client))}


def everything(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row an import touches, to prove a refused file changed nothing."""
    with session_scope(engine) as session:
        return {
            "staff": sorted(
                (s.id, s.name, s.status, s.practice_role, s.job_title)
                for s in session.exec(select(Staff))
            ),
            "emails": sorted((e.staff_id, e.email) for e in session.exec(select(StaffEmail))),
            "clients": sorted(
                (c.id, c.external_id, c.name, c.client_manager)
                for c in session.exec(select(Client))
            ),
            "links": sorted(
                (k.client_id, k.portal, k.portal_org_id)
                for k in session.exec(select(ClientOrgLink))
            ),
            "access": sorted(
                (a.staff_id, a.portal, a.portal_org_id, a.role)
                for a in session.exec(select(IntendedAccess))
            ),
        }


ROSTER_HEADER = ["name", "emails", "status", "left_on", "practice_role"]
ROSTER = [
    ["Anna Smith", "anna@practice.example; anna.smith@gmail.example", "active", "", "Director"],
    ["Ben Chen", "ben@practice.example", "active", "", "Client Manager"],
    ["Cara Lee", "cara@practice.example", "left", "2025-03-03", "Bookkeeper"],
]


def roster(engine: Engine, tmp_path: Path) -> ImportResult:
    return load(engine, "staff", write_csv(tmp_path / "roster.csv", ROSTER_HEADER, ROSTER))
