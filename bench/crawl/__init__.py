"""``python -m bench.crawl``: the crawler's speed against its two yardsticks, and its memory."""
