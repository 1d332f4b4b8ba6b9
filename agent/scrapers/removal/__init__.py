"""Removing a user through a portal's own pages (SPEC.md, "Removing a user").

Each portal's removal is done the way its own remove control does it: read the CSRF
token from the page that offers removal, then send the request that page sends.
Where the pages are and what they send is the portal's recipe's ``removal`` table;
``recipe_remover`` has the mechanics, ``remover_for`` finds a portal's remover. Only
the crawl layer calls them.
"""
