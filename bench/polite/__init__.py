"""``python -m bench.polite``: a crawl held to a portal's rate limit, against its floor."""
