"""Default values of model fields, as plain Python functions.

Making a row object asks each default factory for its signature (pydantic checks
whether it takes the data validated so far), every time. For a builtin such as
``list`` that means parsing its text signature with the tokenizer and the compiler,
about 0.2 ms, more than the rest of making a finding or an observation, of which a
first crawl of 10,000 orgs makes 120,000 each. A Python function answers at once.
"""

from __future__ import annotations


def no_permissions() -> list[str]:
    """An empty list of extra permissions, a new one for each row."""
    return []


def no_detail() -> dict[str, object]:
    """An empty detail object, a new one for each row."""
    return {}
