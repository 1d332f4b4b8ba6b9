"""CSV cells a spreadsheet will not evaluate.

A cell beginning with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is
read as a formula by Excel and LibreOffice; such text gets a leading apostrophe,
the spreadsheet convention for "this is text" (OWASP's advice for CSV injection).
"""

from __future__ import annotations

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_csv_value(value: object) -> object:
    if isinstance(value, str) and value.startswith(_TRIGGERS):
        return "'" + value
    return value
