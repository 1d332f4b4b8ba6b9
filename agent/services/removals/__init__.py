"""Closing access: removal plans, four-eyes approval, runs, verification, client requests.

``plans`` builds a dry-run plan from findings; ``approval`` lets a second person
approve it; ``claims`` hands approved items to a ``remove run`` once each and records
what the portal said; ``verification`` marks items and client requests done when an
ok scan no longer shows the access; ``client_requests`` tracks what only the client
can remove. The run itself, which drives a browser, is ``agent.crawl.removal``'s.
"""
