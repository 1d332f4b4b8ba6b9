"""A small practice with something of every kind an evidence pack holds, and pack tampering.

Made through the product's own functions (an import, scans, reconcile, a review, a
removal plan approved by a second person, an audited export); the review campaign is
written as its tables hold it. Ben has left: his access is planned for removal,
approved, then a later scan no longer shows it, so his leaver finding is closed.
Anna's direct invite is an accepted risk.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine
from sqlmodel import Session, select

from agent.clock import utcnow
from agent.domain import FindingClass
from agent.imports import run_import
from agent.security.audit import record
from agent.security.signing import SigningKey
from agent.security.users import add_user, principal_of
from agent.services.evidence.manifest import parse_manifest
from agent.services.evidence.pack import PackResult, build_pack
from agent.services.evidence.period import Period
from agent.services.findings import reconcile
from agent.services.removals.approval import approve_plan
from agent.services.removals.plans import PlanRequest, plan_removals
from agent.services.review import accept_risk
from agent.settings import Settings
from agent.storage.db import session_scope
from agent.storage.models import Campaign, CampaignItem, Finding
from tests.factories import DOMAIN, add_client, failed_scan, ok_scan, org

ROOT = Path(__file__).resolve().parents[2]
VERIFIER = ROOT / "docs" / "verify_evidence.py"
BEN = f"ben@{DOMAIN}"
ANNA = f"anna@{DOMAIN}"
ROSTER = (
    "name,emails,status,left_on,practice_role\n"
    f"Ben Brennan,{BEN},left,2026-01-31,employee\n"
    f"Anna Ashby,{ANNA},active,,employee\n"
)


@dataclass(frozen=True)
class World:
    ben_finding: int
    anna_finding: int


def build_world(engine: Engine, tmp_path: Path) -> World:
    roster = tmp_path / "roster.csv"
    roster.write_text(ROSTER, encoding="utf-8")
    run_import(engine, "staff", roster, practice_domains=[DOMAIN])
    settings = Settings(data_dir=tmp_path / "world")
    with session_scope(engine) as session:
        add_client(session, "Kowhai", "Mia Manager", ("xero", "!abc12"))
        kowhai, other = org(session, "!abc12"), org(session, "!zzz99", "Other Ltd")
        users = [(BEN, "STANDARD"), (ANNA, "ADVISER"), ("owner@kowhai.example", "ADMIN")]
        ok_scan(session, kowhai, users)
        failed_scan(session, other)
        reconcile(session, configured_domains=[DOMAIN])
        findings = {f.identity: f for f in session.exec(select(Finding))}
        ben, anna = findings[BEN], findings[ANNA]
        assert ben.id is not None
        assert anna.id is not None
        accept_risk(
            session,
            anna.id,
            actor="Mia Manager",
            reason="year-end work",
            expires_on=utcnow().date() + timedelta(days=60),
        )
        add_user(session, name="Ada Admin", role="practice_admin", scope="all", actor="test")
        add_user(session, name="Pat Partner", role="partner", scope="all", actor="test")
    with session_scope(engine) as session:
        plan = plan_removals(
            session, principal_of(session, "Ada Admin"), PlanRequest(finding_ids=[ben.id])
        )
        assert plan.id is not None
        approve_plan(session, principal_of(session, "Pat Partner"), plan.id, settings=settings)
        record(
            session,
            actor="cli:test",
            action="export.report_matrix",
            detail={"rows": 2, "sha256": "ab" * 32},
        )
        campaign = Campaign(name="Q4", due_on=date.today(), started_by="Ada Admin")
        session.add(campaign)
        session.flush()
        assert campaign.id is not None
        session.add(
            CampaignItem(
                campaign_id=campaign.id,
                org_id=kowhai.id,
                identity=ANNA,
                email=ANNA,
                finding_class=FindingClass.INVITED_DIRECT,
                reviewer="Mia Manager",
                reviewer_basis="client_manager",
                decision="keep",
                reason="year-end work",
                decided_by="Mia Manager",
                decided_at=utcnow(),
            )
        )
    with session_scope(engine) as session:
        ok_scan(session, kowhai, users[1:])  # Ben is gone
        reconcile(session, configured_domains=[DOMAIN])
    return World(ben.id, anna.id)


def today_period() -> Period:
    today = utcnow().date()
    return Period(today - timedelta(days=1), today)


def new_key() -> SigningKey:
    return SigningKey(Ed25519PrivateKey.generate(), "test")


def make_pack(
    engine: Engine, path: Path, key: SigningKey, period: Period, now: datetime | None = None
) -> PackResult:
    with Session(engine) as session:
        return build_pack(session, period, path, key, now=now or utcnow())


# -- standalone verifier --------------------------------------------------------------


def standalone(pack: Path, *args: str) -> tuple[int, str, str]:
    """The stand-alone verifier's exit code, stdout and stderr, run as an auditor would."""
    done = subprocess.run(
        [sys.executable, str(VERIFIER), str(pack), *args],
        capture_output=True,
        text=True,
        check=False,
        cwd=pack.parent,
    )
    return done.returncode, done.stdout, done.stderr


# -- tampering ------------------------------------------------------------------------


def members(pack: Path) -> list[tuple[str, bytes]]:
    with zipfile.ZipFile(pack) as z:
        return [(i.filename, z.read(i)) for i in z.infolist()]


def rewrite(pack: Path, out: Path, changed: dict[str, bytes]) -> Path:
    """``pack`` zipped again (stored, CRCs right) with some members' bytes replaced."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as z:
        for name, data in members(pack):
            z.writestr(name, changed.get(name, data))
        for name in changed.keys() - dict(members(pack)).keys():
            z.writestr(name, changed[name])
    out.write_bytes(buffer.getvalue())
    return out


def lines_of(pack: Path, name: str) -> list[bytes]:
    return dict(members(pack))[name].split(b"\n")[:-1]


def with_lines(pack: Path, out: Path, name: str, lines: list[bytes]) -> Path:
    return rewrite(pack, out, {name: b"".join(line + b"\n" for line in lines)})


def flip_byte_in_place(pack: Path, out: Path, name: str, offset: int) -> Path:
    """One byte of a member changed in the zip file itself (its CRC is left wrong)."""
    data = bytearray(pack.read_bytes())
    with zipfile.ZipFile(pack) as z:
        info = z.getinfo(name)
    header = data[info.header_offset : info.header_offset + 30]
    start = (
        info.header_offset
        + 30
        + int.from_bytes(header[26:28], "little")
        + int.from_bytes(header[28:30], "little")
    )
    data[start + offset] ^= 0x01
    out.write_bytes(bytes(data))
    return out


def resigned(pack: Path, out: Path, key: SigningKey) -> Path:
    """The manifest signed again with ``key``, which it now carries."""
    manifest = parse_manifest(dict(members(pack))["manifest.json"])
    forged = replace(manifest, public_key=key.public_raw)
    forged = replace(forged, signature=key.sign(forged.signed_bytes()))
    return rewrite(pack, out, {"manifest.json": forged.to_json()})


def manifest_of(pack: Path) -> dict[str, object]:
    return json.loads(dict(members(pack))["manifest.json"])
