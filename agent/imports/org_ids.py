"""Portals and org ids as a practice's files write them, in the one form stored.

Org ids are normalised here once for the whole product: a Xero short code is kept
exactly (its case matters), a QBO realm id is its digits, a MYOB business id is its
UUID in lower case. ``normalise_org_id`` is what other layers should call to compare.
A cell may hold several ids; every bad one is named in one ``FieldError``, so a
practice admin fixes a cell once.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from agent.domain import Portal
from agent.imports.errors import FieldError
from agent.imports.fields import EXCEL_EXACT, show, split_list, to_text
from agent.imports.sheet import Cell

OrgRef = tuple[Portal, str]
"""A portal and one of its org ids, normalised."""

_XERO_ID = re.compile(r"![A-Za-z0-9]{5}")
_QBO_ID = re.compile(r"[0-9]{10,19}")
_MYOB_ID = re.compile(
    r"\{?([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})\}?"
)
_ORG_ID_HELP = {
    Portal.XERO: "a Xero short code is ! and five letters or digits, e.g. !x7Kp2",
    Portal.QBO: "a QuickBooks realm id is 10 to 19 digits, e.g. 9130352157364426",
    Portal.MYOB: "a MYOB business id is a UUID, e.g. 3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f",
}
_ID_SPLIT = re.compile(r"[;,\s]+")


def parse_portal(cell: Cell) -> Portal:
    word = (to_text(cell) or "").casefold()
    try:
        return Portal(word)
    except ValueError:
        raise FieldError(f"{show(cell)} is not a portal; use xero, qbo or myob") from None


def normalise_org_id(portal: Portal | str, raw: str) -> str:
    """The stored form of an org id, or ``FieldError`` if it is not one of that portal's."""
    portal = Portal(portal)
    text = raw.strip()
    if portal is Portal.XERO:
        if _XERO_ID.fullmatch(text):
            return text
        hint = f" (did you mean !{text}?)" if re.fullmatch(r"[A-Za-z0-9]{5}", text) else ""
        raise FieldError(f"{show(text)} is not a Xero org id{hint}; {_ORG_ID_HELP[portal]}")
    if portal is Portal.QBO:
        if _QBO_ID.fullmatch(text):
            return text
        raise FieldError(f"{show(text)} is not a QuickBooks org id; {_ORG_ID_HELP[portal]}")
    if match := _MYOB_ID.fullmatch(text):
        return match.group(1).lower()
    raise FieldError(f"{show(text)} is not a MYOB org id; {_ORG_ID_HELP[portal]}")


def parse_org_id(portal: Portal, cell: Cell) -> str:
    """An org id from a cell; a number Excel may have rounded is refused, not guessed."""
    if isinstance(cell, float) and not (cell.is_integer() and abs(cell) < EXCEL_EXACT):
        raise FieldError(
            f"{show(cell)} was stored by Excel as a number and has lost digits; "
            "format the column as Text and enter the id again"
        )
    if isinstance(cell, bool) or not isinstance(cell, str | int | float):
        raise FieldError(f"{show(cell)} is not an org id; {_ORG_ID_HELP[portal]}")
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
