"""Services over stored state: scans, findings, status, reviews, alerts."""
