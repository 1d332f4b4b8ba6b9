"""``python -m bench.scale``: workers side by side on PostgreSQL, and a worker's memory."""
