"""Removing a user through a portal's own pages (SPEC.md, "Removing a user").

One remover per portal, each doing what the portal's own remove control does: read
the CSRF token from the page that offers removal, then send the request that page
sends. ``remover_for`` finds a portal's; like the scrapers, importing one loads
nothing but this package, and only the crawl layer calls them.
"""
