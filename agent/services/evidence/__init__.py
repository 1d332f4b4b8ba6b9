"""Evidence packs: a period's records, hash-chained and signed, that an auditor checks alone.

* ``period`` — the days a pack covers (inclusive, UTC);
* ``shapes`` — a kind's fields, and its rows written as canonical JSON lines fast;
* ``kinds`` and ``records`` — each kind of record and the query that reads a period's
  rows (scans, observations, sign-ins, findings and their reviews, campaigns,
  removals, client requests, imports, exports, the other audit events);
* ``chain`` — one SHA-256 chain across every record file: writing and checking it,
  and naming the first record that breaks it;
* ``manifest`` — what a pack holds, its chain head and the Ed25519 signature;
* ``summary`` — coverage, leaver access closed, open exceptions, campaign results;
* ``pack`` — the zip: building it for a period, and checking one.

The stand-alone ``docs/verify_evidence.py`` checks a pack the same way without the
product, for the auditor.
"""
