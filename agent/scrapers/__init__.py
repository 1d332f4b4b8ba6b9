"""Portal scrapers: one module per portal behind one interface (``base.Scraper``).

``registry.scraper_for`` finds a portal's scraper. This package's own import loads
nothing, so a module that only needs a TOTP helper does not load Playwright.
"""
