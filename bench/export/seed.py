"""A database holding ``n`` open findings, inserted in bulk (reconciling 100k would take long).

    python -m bench.export.seed DATABASE_URL FINDINGS

Run in a process of its own by ``python -m bench.export``: building 100k rows takes
memory, and a child process started later would inherit that peak in its
``ru_maxrss`` (Linux keeps the high-water mark across ``fork`` and ``exec``).

Shaped like a large practice: 2,000 orgs of 1,000 clients (one in ten orgs linked
to no client), 5,000 staff, 50 findings per org in every class that needs action
and names with accents and long details, so the rows are as wide as real ones.
"""

from __future__ import annotations

import argparse
import random
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, insert

from agent.domain import FindingClass
from agent.storage.db import make_engine, upgrade_to_head
from agent.storage.models import Client, ClientOrgLink, Finding, Org, Staff, StaffEmail

PER_ORG = 50
CLASSES = [c for c in FindingClass if c.is_problem]
ROLES = [
    ("FINANCIALADVISER", ["MANAGE_USERS"]),
    ("STANDARD", []),
    ("READONLY", []),
    ("STANDARD", ["PAYROLL_ADMIN"]),
    ("INVOICEONLY", []),
]
GIVEN = ["Anna", "Chloé", "Łukasz", "Siobhán", "Zoë", "Aroha", "Björn", "Dev", "Mei", "Tom"]
FAMILY = ["Hōhepa", "Müller", "O'Brien", "Zielińska", "Nguyen", "Patel", "Tanaka", "Evans"]


def _chunks(rows: list[dict[str, object]], size: int = 5_000) -> list[list[dict[str, object]]]:
    return [rows[i : i + size] for i in range(0, len(rows), size)]


def seed(database_url: str, findings: int, *, seed_value: int = 1) -> Engine:
    """Create the schema and ``findings`` open findings; returns the engine."""
    rng = random.Random(seed_value)
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    orgs = max(1, findings // PER_ORG)
    clients = max(1, orgs // 2)
    staff = 5_000
    now = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    managers = [f"{g} {f}" for g in GIVEN[:4] for f in FAMILY[:3]]
    with engine.begin() as db:
        db.execute(
            insert(Staff),
            [
                {
                    "id": i + 1,
                    "name": f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} {i}",
                    "status": rng.choice(["active", "active", "left", "on_leave"]),
                    "practice_role": "employee",
                }
                for i in range(staff)
            ],
        )
        db.execute(
            insert(StaffEmail),
            [
                {"staff_id": i + 1, "email": f"staff{i}@harbourco.example", "is_primary": True}
                for i in range(staff)
            ],
        )
        db.execute(
            insert(Client),
            [
                {
                    "id": i + 1,
                    "external_id": f"C{i:05d}",
                    "name": f"Client {i} Kōwhai Holdings",
                    "client_manager": rng.choice(managers),
                    "job_manager": rng.choice(managers),
                    "partner": managers[0],
                    "annual_fee": float(rng.randrange(1200, 48000, 50)),
                    "archived": i % 50 == 0,
                    "contact_email": f"accounts{i}@client.example",
                }
                for i in range(clients)
            ],
        )
        db.execute(
            insert(Org),
            [
                {
                    "id": i + 1,
                    "portal": "xero",
                    "portal_org_id": f"!{i:05d}",
                    "name": f"Org {i} Riverside Engineering Ltd",
                    "first_seen_at": now,
                    "last_listed_at": now,
                }
                for i in range(orgs)
            ],
        )
        db.execute(
            insert(ClientOrgLink),
            [
                {"client_id": i % clients + 1, "portal": "xero", "portal_org_id": f"!{i:05d}"}
                for i in range(orgs)
                if i % 10 != 9
            ],
        )
        rows: list[dict[str, object]] = []
        for n in range(findings):
            org = n // PER_ORG + 1
            person = rng.randrange(staff)
            cls = CLASSES[n % len(CLASSES)]
            role, extras = rng.choice(ROLES)
            seen = now - timedelta(minutes=rng.randrange(100_000))
            rows.append(
                {
                    "org_id": org if org <= orgs else orgs,
                    "identity": f"u{n}@harbourco.example",
                    "staff_id": person + 1,
                    "finding_class": cls,
                    "severity": cls.severity,
                    "email": f"u{n}@harbourco.example",
                    "name": f"Person {n}",
                    "role": role,
                    "extra_permissions": extras,
                    "access_status": rng.choice(["active", "pending"]),
                    "removable_by": rng.choice(["practice", "client"]),
                    "detail": f"staff member {person} was invited directly by the client {n}",
                    "first_seen_at": seen,
                    "last_seen_at": now,
                    "review_state": "open",
                }
            )
        for chunk in _chunks(rows):
            db.execute(insert(Finding), chunk)
    return engine


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("database_url")
    parser.add_argument("findings", type=int)
    args = parser.parse_args()
    seed(args.database_url, args.findings).dispose()


if __name__ == "__main__":
    main()
