"""A synthetic practice and its orgs' user lists, written to an SQLite file.

Deterministic for a seed. Every org has the agent's own login, a few staff (as
granted, drifted, invited directly, granted but absent, declined, or invited on a
personal address under their roster name), sometimes a practice address nobody
owns or the portal vendor's support, and client users; some client users share a
given name with staff, so the name matcher has real work to do. Orgs are written
in primary-key order so both engines can stream them.

Tables (raw values as a portal shows them, plus the keys only SQL needs, because
SQLite has no Unicode folding: ``name_key``, ``role_map``):

    staff(id, name, name_key, status)           staff_email(email, staff_id, is_primary)
    practice_domain(domain)  agent(email)       role_map(portal, raw, code)
    org(pk, portal, org_id, client_name, archived)
    grant_(org_pk, staff_id, role)              obs(org_pk, email, name, name_key, role, status)
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

from agent.reconcile.identity import fold_name

DOMAINS = ("harbourco.example", "harbour-tax.example")
SUPPORT = {
    "xero": "support@xero.com",
    "qbo": "accountant.support@intuit.com",
    "myob": "support@myob.com",
}
PORTALS = ("xero", "qbo", "myob")
ROLES = {
    "xero": {
        "staff": ["FINANCIALADVISER", "STANDARD"],
        "client": ["STANDARD", "READONLY", "INVOICEONLY"],
    },
    "qbo": {
        "staff": ["Accountant", "Company admin"],
        "client": ["Standard all access", "Reports only"],
    },
    "myob": {"staff": ["Online admin", "File user"], "client": ["File user"]},
}
ROLE_CODES = {
    ("xero", "FINANCIALADVISER"): "FINANCIALADVISER",
    ("xero", "STANDARD"): "STANDARD",
    ("xero", "READONLY"): "READONLY",
    ("xero", "INVOICEONLY"): "INVOICEONLY",
    ("qbo", "Accountant"): "ACCOUNTANT",
    ("qbo", "Company admin"): "COMPANY_ADMIN",
    ("qbo", "Standard all access"): "STANDARD_ALL",
    ("qbo", "Reports only"): "REPORTS_ONLY",
    ("myob", "Online admin"): "ONLINE_ADMIN",
    ("myob", "File user"): "FILE_USER",
}
_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ren",
    "sa",
    "tor",
    "vi",
    "wen",
    "zu",
    "bel",
    "dra",
    "fen",
    "gor",
    "hal",
    "jin",
    "kes",
    "lun",
    "mor",
    "nis",
    "pra",
    "qui",
    "ros",
    "tam",
]


_CLIENT_SYLLABLES = ["kax", "lox", "mib", "rex", "sax", "tox", "vix", "wex", "zub", "bex"]


def _word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).capitalize()


def _pool(rng: random.Random, size: int, parts: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        words.add(_word(rng, parts))
    return sorted(words)


def generate(path: Path, *, observations: int, staff: int, seed: int = 1) -> dict[str, int]:
    """Write the data set; returns its sizes."""
    path.unlink(missing_ok=True)
    rng = random.Random(seed)
    given = _pool(rng, 150, 2)
    family = _pool(rng, 1500, 3)
    # Client surnames share their first letters with staff surnames now and then (so
    # the name matcher must score them) but are never close to one.
    client_family = sorted(
        {
            f"{rng.choice(_CLIENT_SYLLABLES)}{rng.choice(_CLIENT_SYLLABLES)}"
            f"{rng.choice(['wright', 'worthy', 'bridge'])}".capitalize()
            for _ in range(600)
        }
    )
    db = sqlite3.connect(path)
    db.executescript("""
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE staff(id INTEGER PRIMARY KEY, name TEXT, name_key TEXT, status TEXT);
        CREATE TABLE staff_email(email TEXT PRIMARY KEY, staff_id INTEGER, is_primary INTEGER);
        CREATE TABLE practice_domain(domain TEXT PRIMARY KEY);
        CREATE TABLE agent(email TEXT PRIMARY KEY);
        CREATE TABLE role_map(portal TEXT, raw TEXT, code TEXT, PRIMARY KEY(portal, raw));
        CREATE TABLE org(pk INTEGER PRIMARY KEY, portal TEXT, org_id TEXT, client_name TEXT,
                         archived INTEGER);
        CREATE TABLE grant_(org_pk INTEGER, staff_id INTEGER, role TEXT);
        CREATE TABLE obs(org_pk INTEGER, email TEXT, name TEXT, name_key TEXT, role TEXT,
                         status TEXT);
    """)
    db.executemany("INSERT INTO practice_domain VALUES (?)", [(d,) for d in DOMAINS])
    db.executemany(
        "INSERT INTO agent VALUES (?)", [(f"accessrecon.{p}@{DOMAINS[0]}",) for p in PORTALS]
    )
    db.executemany(
        "INSERT INTO role_map VALUES (?, ?, ?)",
        [(p, raw, code) for (p, raw), code in ROLE_CODES.items()],
    )
    people: list[tuple[int, str, str, str]] = []
    for i in range(1, staff + 1):
        name = f"{rng.choice(given)} {rng.choice(family)}"
        if i % 97 == 0:
            name = people[-1][1]  # now and then two staff share a name
        status = rng.choices(["active", "on_leave", "left"], [80, 8, 12])[0]
        local = name.lower().replace(" ", ".")
        primary = f"{local}.{i}@{DOMAINS[i % 2]}"
        people.append((i, name, status, primary))
        db.execute("INSERT INTO staff VALUES (?, ?, ?, ?)", (i, name, fold_name(name), status))
        db.execute("INSERT INTO staff_email VALUES (?, ?, 1)", (primary, i))
        if rng.random() < 0.2:
            db.execute(
                "INSERT INTO staff_email VALUES (?, ?, 0)", (f"{local}.{i}@personal.example", i)
            )
    counts = {"observations": 0, "orgs": 0, "grants": 0, "staff": staff}
    pk = 0
    while counts["observations"] < observations:
        pk += 1
        portal = PORTALS[pk % 3]
        linked = rng.random() < 0.85
        db.execute(
            "INSERT INTO org VALUES (?, ?, ?, ?, ?)",
            (
                pk,
                portal,
                f"{portal}-{pk:08d}",
                f"Client {pk}" if linked else None,
                int(linked and rng.random() < 0.1),
            ),
        )
        rows, grants = _org_users(rng, pk, portal, people, given, client_family)
        db.executemany("INSERT INTO obs VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.executemany("INSERT INTO grant_ VALUES (?, ?, ?)", grants)
        counts["observations"] += len(rows)
        counts["grants"] += len(grants)
        counts["orgs"] += 1
    db.executescript("""
        CREATE INDEX ix_obs_org ON obs(org_pk);
        CREATE INDEX ix_grant_org ON grant_(org_pk, staff_id);
        CREATE INDEX ix_staff_email_staff ON staff_email(staff_id);
        CREATE INDEX ix_staff_name_key ON staff(name_key);
        ANALYZE;
    """)
    db.commit()
    db.close()
    return counts


def _org_users(
    rng: random.Random,
    pk: int,
    portal: str,
    people: list[tuple[int, str, str, str]],
    given: list[str],
    client_family: list[str],
) -> tuple[list[tuple[object, ...]], list[tuple[int, int, str]]]:
    size = rng.randint(5, 35)
    roles = ROLES[portal]
    rows: list[tuple[object, ...]] = [
        (
            pk,
            f"accessrecon.{portal}@{DOMAINS[0]}",
            "Access Robot",
            "access robot",
            roles["staff"][0],
            "active",
        )
    ]
    grants: list[tuple[int, int, str]] = []
    for staff_id, name, _status, primary in rng.sample(people, rng.randint(0, 4)):
        intent = rng.choices(
            ["managed", "drift", "direct", "missing", "personal", "declined"],
            [50, 10, 20, 10, 5, 5],
        )[0]
        granted, observed = rng.choice(roles["staff"]), None
        email = primary
        if rng.random() < 0.1:
            email = email.upper()
        elif rng.random() < 0.1:
            email = email.replace("@", "+ledger@")
        if intent in ("managed", "drift", "missing"):
            grants.append((pk, staff_id, granted))
        observed = granted
        if intent == "drift":
            observed = next(r for r in roles["staff"] if r != granted)
        if intent == "missing":
            continue
        status = (
            "declined" if intent == "declined" else ("pending" if rng.random() < 0.05 else "active")
        )
        if intent == "personal":
            email = f"{name.split()[0].lower()}.{staff_id}.{pk}@home.example"
        rows.append((pk, email, name, fold_name(name), observed, status))
    if rng.random() < 0.02:
        rows.append(
            (
                pk,
                f"temp.{pk}@{DOMAINS[1]}",
                "Temp Contractor",
                "temp contractor",
                roles["client"][0],
                "active",
            )
        )
    if rng.random() < 0.03:
        rows.append((pk, SUPPORT[portal], "Support", "support", roles["client"][0], "active"))
    n = 0
    while len(rows) < size:
        n += 1
        first = rng.choice(given) if rng.random() < 0.1 else f"Owner{rng.randint(1, 999)}"
        name = f"{first} {rng.choice(client_family)}"
        status = rng.choices(["active", "pending", "inactive"], [94, 5, 1])[0]
        rows.append(
            (
                pk,
                f"user{n}.{pk}@client{pk}.example",
                name,
                fold_name(name),
                rng.choice(roles["client"]),
                status,
            )
        )
    return rows, grants
