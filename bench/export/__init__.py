"""Export benchmark: the big reports beside bare XlsxWriter; run ``python -m bench.export``."""
