"""Evidence pack at a million records, beside plain SHA-256: ``python -m bench.evidence``."""
