"""Metrics for Prometheus: what the practice's database knows, and what each process did.

Two halves, because they answer to different questions:

* **The database** (``database``): scans by outcome and reason, the scan queue,
  the latest crawls' durations, removal items by state, sign-in failures. Every
  process sees the same database, so these are counted there at scrape time, by the
  server only; a practice with three workers must not report its scans three times.
* **This process** (``process``): what its worker ran (scans by outcome, crawls in
  progress, the crawl durations it saw, its requests and removal runs) and its memory
  and CPU. These exist nowhere else, so each worker serves them on a port of its own
  (``port``); the server's in-process worker counts into the same registry, and the
  server's ``/metrics`` shows it beside the database's.

Who may scrape is ``access``: loopback, and whatever ``ACCESSRECON_METRICS_ALLOW``
names. No label holds a person's name or address: portal, status, reason, state and
login id only.
"""
