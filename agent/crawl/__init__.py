"""The crawl engine: sign in, list, read every org, record; its queue and schedule."""
