"""Reconcile at scale: the product's engine beside an SQLite join, on synthetic data."""
