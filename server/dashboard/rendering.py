"""Turning templates into pages: one Jinja environment, autoescaping everything.

Names, emails and org names come from portals and client files, so they are
hostile text (``<img src=x onerror=...>`` is a valid display name). Autoescape is
on for every template, whatever its extension, and no template marks data
``|safe``; the SVG charts are drawn by templates too, from numbers. Filters here
format what tables show, so every page writes dates and labels the same way.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from agent.reports.labels import reason_words, role_label, who_can_remove
from agent.reports.words import day, label, moment, plural, spelt_dates

TEMPLATES_DIR = Path(__file__).parent / "templates"


def when(value: object) -> str:
    """A time as ``24 Nov 2026 21:12 UTC``; a date as ``24 Nov 2026``; nothing as a dash."""
    if isinstance(value, date | datetime):
        return moment(value)
    return "—"


def path_part(value: object) -> str:
    """One path segment: an org id such as ``!kow01`` or a MYOB GUID, quoted whole."""
    return quote(str(value), safe="")


def query(params: dict[str, Any], **changes: Any) -> str:
    """A query string from ``params`` with ``changes`` applied; empty values dropped."""
    merged = {**params, **changes}
    pairs: list[tuple[str, str]] = []
    for key, value in merged.items():
        values = value if isinstance(value, list | tuple) else [value]
        pairs.extend((key, str(v)) for v in values if v is not None and v != "")
    return ("?" + urlencode(pairs)) if pairs else ""


def portal_role(raw: str | None, portal: object) -> str:
    """A role as the portal names it (``FINANCIALADVISER`` is "Adviser"), or a dash."""
    if not raw:
        return "—"
    return role_label(str(getattr(portal, "value", portal)), raw)


def labels_for(codes: list[str]) -> dict[str, str]:
    """Codes and their words, for a script that shows a code the server sends it later."""
    return {code: label(code) for code in codes}


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        label=label, when=when, day=day, path_part=path_part, role=portal_role, plural=plural
    )
    env.filters["prose"] = spelt_dates
    env.filters["removal_reason"] = reason_words
    env.globals.update(query=query, labels_for=labels_for, who_can_remove=who_can_remove)
    return env
