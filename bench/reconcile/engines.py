"""The two engines under comparison, each reading the same SQLite file.

``ours`` is the product's pure reconcile (``agent.reconcile``) streamed org by org:
the roster is loaded once, then the orgs, their grants and their user rows are
read in org order, three cursors merged, and each org is classified with
``classify_org`` and forgotten. Memory holds one org at a time, whatever the size.

``sql`` is one SQLite query computing the same classes with joins (a probable match
is an exact folded-name match there, since SQL has no fuzzy matching; the data set
only holds such probable matches, and the comparison of results proves the two
agree). Its rows are fetched and counted in Python, as a product would have to.

Both return the number of findings per class and an order-independent digest of
every (org, identity, class), so a run shows that they found the same things.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from itertools import groupby
from operator import itemgetter
from pathlib import Path

from agent.domain import AccessStatus, Portal, StaffStatus
from agent.reconcile import (
    Grant,
    OrgFacts,
    Practice,
    PracticeIndex,
    SeenUser,
    StaffMember,
    classify_org,
)

MASK = (1 << 64) - 1
Result = tuple[Counter[str], int]


def _practice(db: sqlite3.Connection) -> Practice:
    domains = frozenset(d for (d,) in db.execute("SELECT domain FROM practice_domain"))
    emails: dict[int, list[str]] = {}
    for email, staff_id in db.execute(
        "SELECT email, staff_id FROM staff_email ORDER BY staff_id, is_primary DESC, email"
    ):
        emails.setdefault(staff_id, []).append(email)
    staff = tuple(
        StaffMember(i, name, StaffStatus(status), tuple(emails.get(i, ())))
        for i, name, status in db.execute("SELECT id, name, status FROM staff")
    )
    agents = frozenset(e for (e,) in db.execute("SELECT email FROM agent"))
    return Practice(domains, staff, agents)


def _grouped(cursor: sqlite3.Cursor) -> Iterator[tuple[int, list[tuple]]]:
    for org_pk, rows in groupby(cursor, key=itemgetter(0)):
        yield org_pk, list(rows)


def ours(path: Path) -> Result:
    """Classify every org with the product's reconcile, streaming org by org."""
    db = sqlite3.connect(path)
    index = PracticeIndex.build(_practice(db))
    statuses = {s.value: s for s in AccessStatus}
    portals = {p.value: p for p in Portal}
    new = tuple.__new__
    users = _grouped(
        db.execute("SELECT org_pk, email, name, role, status FROM obs ORDER BY org_pk")
    )
    grants = _grouped(
        db.execute("SELECT org_pk, staff_id, role FROM grant_ ORDER BY org_pk, staff_id")
    )
    next_users, next_grants = next(users, None), next(grants, None)
    counts: Counter[str] = Counter()
    digest = 0
    for pk, portal, org_id, client, archived in db.execute(
        "SELECT pk, portal, org_id, client_name, archived FROM org ORDER BY pk"
    ):
        seen: list[SeenUser] = []
        if next_users is not None and next_users[0] == pk:
            # built as plain tuples: a named tuple's own constructor costs twice as much
            seen = [
                new(
                    SeenUser,
                    (email, name, role, statuses[status], (), None, None, False, None, None),
                )
                for _, email, name, role, status in next_users[1]
            ]
            next_users = next(users, None)
        granted: dict[int, Grant] = {}
        if next_grants is not None and next_grants[0] == pk:
            granted = {
                staff_id: Grant(staff_id, portals[portal], org_id, role)
                for _, staff_id, role in next_grants[1]
            }
            next_grants = next(grants, None)
        facts = OrgFacts(portals[portal], org_id, org_id, client, bool(archived))
        for found in classify_org(index, facts, seen, granted):
            cls = str.__str__(found.finding_class)  # the plain value, as SQL returns it
            counts[cls] += 1
            digest = (digest + hash((pk, found.identity, cls))) & MASK
    db.close()
    return counts, digest


SQL = """
WITH n AS (
    SELECT org_pk, name_key, role, lower(trim(email)) AS e
    FROM obs WHERE status IN ('active', 'pending')
), d AS (
    SELECT org_pk, name_key, role, e, substr(e, instr(e, '@') + 1) AS domain,
           substr(e, 1, instr(e, '@') - 1) AS local
    FROM n
), i AS (
    SELECT org_pk, name_key, role, domain,
           CASE WHEN instr(local, '+') > 1
                THEN substr(local, 1, instr(local, '+') - 1) || '@' || domain
                ELSE e END AS identity
    FROM d
), seen AS (
    SELECT i.*, se.staff_id FROM i LEFT JOIN staff_email se ON se.email = i.identity
    WHERE i.identity NOT IN (SELECT email FROM agent)
)
SELECT seen.org_pk, seen.identity,
    CASE
        WHEN s.status = 'left' THEN 'leaver_access'
        WHEN s.id IS NOT NULL AND g.staff_id IS NULL THEN 'invited_direct'
        WHEN s.id IS NULL AND seen.domain IN (SELECT domain FROM practice_domain)
            THEN 'unknown_practice_user'
        WHEN s.id IS NULL AND seen.domain NOT IN ('xero.com', 'intuit.com', 'myob.com')
             AND EXISTS (SELECT 1 FROM staff p WHERE p.name_key = seen.name_key)
            THEN 'probable_match'
        WHEN s.id IS NOT NULL AND ro.code IS NOT rg.code THEN 'role_drift'
        WHEN s.id IS NOT NULL AND o.archived = 1 THEN 'archived_client_access'
        WHEN s.id IS NOT NULL AND o.client_name IS NULL THEN 'unlinked_org'
        WHEN s.id IS NOT NULL THEN 'managed'
        ELSE 'client_user'
    END
FROM seen
JOIN org o ON o.pk = seen.org_pk
LEFT JOIN staff s ON s.id = seen.staff_id
LEFT JOIN grant_ g ON g.org_pk = seen.org_pk AND g.staff_id = seen.staff_id
LEFT JOIN role_map ro ON ro.portal = o.portal AND ro.raw = seen.role
LEFT JOIN role_map rg ON rg.portal = o.portal AND rg.raw = g.role
UNION ALL
SELECT g.org_pk, pe.email, 'missing_expected'
FROM grant_ g
JOIN staff s ON s.id = g.staff_id AND s.status != 'left'
JOIN staff_email pe ON pe.staff_id = s.id AND pe.is_primary = 1
WHERE NOT EXISTS (
    SELECT 1 FROM obs x JOIN staff_email xe ON xe.staff_id = g.staff_id
    WHERE x.org_pk = g.org_pk AND x.status IN ('active', 'pending')
      AND xe.email = CASE
          WHEN instr(substr(lower(trim(x.email)), 1, instr(x.email, '@') - 1), '+') > 1
          THEN substr(lower(trim(x.email)), 1, instr(lower(trim(x.email)), '+') - 1)
               || substr(lower(trim(x.email)), instr(lower(trim(x.email)), '@'))
          ELSE lower(trim(x.email)) END
)
"""


def sql(path: Path) -> Result:
    """Classify every org with one SQL query over the same tables."""
    db = sqlite3.connect(path)
    counts: Counter[str] = Counter()
    digest = 0
    for pk, identity, cls in db.execute(SQL):
        counts[cls] += 1
        digest = (digest + hash((pk, identity, cls))) & MASK
    db.close()
    return counts, digest


ENGINES = {"ours": ours, "sql": sql}
