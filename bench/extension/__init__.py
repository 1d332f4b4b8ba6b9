"""The extension benchmark: ``python -m bench.extension`` (see ``__main__``)."""
