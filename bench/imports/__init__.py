"""The import bound at a million rows: ``python -m bench.imports`` (see ``run.py``)."""
