"""Portals and org ids as a practice's files write them, in the one form stored.

Each id is put in its stored form by ``agent.orgid`` (the one place that knows the
portals' id formats); here it is read from a cell. A cell may hold several ids; every
bad one is named in one ``FieldError``, so a practice admin fixes a cell once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from agent import orgid
from agent.domain import Portal
from agent.imports.errors import FieldError
from agent.imports.fields import EXCEL_EXACT, show, split_list, to_text
from agent.imports.sheet import Cell

OrgRef = tuple[Portal, str]
"""A portal and one of its org ids, normalised."""

_ID_SPLIT = re.compile(r"[;,\s]+")


def parse_portal(cell: Cell) -> Portal:
    word = (to_text(cell) or "").casefold()
    try:
        return Portal(word)
    except ValueError:
        raise FieldError(f"{show(cell)} is not a portal; use xero, qbo or myob") from None


def normalise_org_id(portal: Portal | str, raw: str) -> str:
    """The stored form of an org id, or ``FieldError`` if it is not one of that portal's."""
    try:
        return orgid.parse_org_id(portal, raw)
    except ValueError as exc:
        raise FieldError(str(exc)) from None


def parse_org_id(portal: Portal, cell: Cell) -> str:
    """An org id from a cell; a number Excel may have rounded is refused, not guessed."""
    if isinstance(cell, float) and not (cell.is_integer() and abs(cell) < EXCEL_EXACT):
        raise FieldError(
            f"{show(cell)} was stored by Excel as a number and has lost digits; "
            "format the column as Text and enter the id again"
        )
    if isinstance(cell, bool) or not isinstance(cell, str | int | float):
        raise FieldError(f"{show(cell)} is not an org id; {orgid.ID_HELP[portal]}")
    return normalise_org_id(portal, to_text(cell) or "")


def parse_org_ref(text: str) -> OrgRef:
    """``xero:!x7Kp2`` to the portal and its normalised org id."""
    portal_text, colon, org_text = text.partition(":")
    if not colon:
        raise FieldError(
            f"{show(text)} is not portal:org_id; write it like xero:!x7Kp2 or qbo:1234567890"
        )
    portal = parse_portal(portal_text.strip())
    return portal, normalise_org_id(portal, org_text)


def parse_org_refs(cell: Cell) -> list[OrgRef]:
    """``portal:org_id`` pairs separated by ``;``, ``,``, tabs or new lines, each once.

    Every bad pair is named in one ``FieldError``.
    """
    return _each_once(split_list(to_text(cell) or ""), parse_org_ref)


def parse_portal_org_ids(portal: Portal, cell: Cell) -> list[OrgRef]:
    """One portal's org ids from its own column (``xero_org``), duplicates dropped.

    Ids are separated by ``;``, ``,``, spaces or new lines; an id may carry its portal
    (``xero:!x7Kp2``) but not another's. A number cell is one id. Every bad id is
    named in one ``FieldError``.
    """
    if not isinstance(cell, str):
        return [(portal, parse_org_id(portal, cell))]

    def one(item: str) -> OrgRef:
        named, colon, rest = item.partition(":")
        if colon and named.strip().casefold() != portal.value:
            raise FieldError(f"{show(item)} names another portal than {portal}")
        return portal, normalise_org_id(portal, rest if colon else item)

    return _each_once(split_list(cell, _ID_SPLIT), one)


def _each_once(items: Iterable[str], parse: Callable[[str], OrgRef]) -> list[OrgRef]:
    """Each item parsed, in order, duplicates dropped; every failure named in one error."""
    refs: list[OrgRef] = []
    problems: list[str] = []
    for item in items:
        try:
            ref = parse(item)
        except FieldError as exc:
            problems.append(str(exc))
            continue
        if ref not in refs:
            refs.append(ref)
    if problems:
        raise FieldError("; ".join(problems))
    return refs
