"""Evidence packs: a period's records, hash-chained and signed, that an auditor checks alone.

* ``period`` — the days a pack covers (inclusive, UTC);
* ``shapes`` — a kind's fields, and a batch of its rows as canonical JSON, fast;
* ``kinds`` and ``records`` — each kind of record and the query that reads a period's
  rows (scans, observations, sign-ins, findings and their reviews, campaigns,
  removals, client requests, imports, exports, the other audit events);
* ``lines`` — a record line on the one SHA-256 chain across every record file, as
  bytes: a batch put on it, a span of it checked;
* ``chain`` — the chain read in order, naming the first record that breaks it;
* ``spans`` — a pack's records cut into spans to check at once;
* ``archive`` — the zip as it is written;
* ``helper`` — helper processes that write a pack, and check parts of one, beside
  the product's process;
* ``manifest`` — what a pack holds, its chain head and the Ed25519 signature;
* ``summary`` — coverage, leaver access closed, open exceptions, campaign results;
* ``pack`` — the zip: building it for a period, and checking one.

The stand-alone ``docs/verify_evidence.py`` checks a pack the same way without the
product, for the auditor.
"""
