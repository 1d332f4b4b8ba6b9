"""Each portal's org id: its format and its one stored (canonical) form.

The portal contract (SPEC.md, "Identifiers") fixes the formats, and they never
overlap, so an id alone names its portal:

======  ======================================  =========================================
portal  the id                                  stored as
======  ======================================  =========================================
xero    ``!`` and five letters or digits         written as given: case matters
        (``!x7Kp2``)                             (``!qKTbB`` and ``!QktBb`` are two orgs)
qbo     a realm id of 10 to 19 digits            the digits as given (no zero is dropped)
myob    a UUID                                   lower case (a UUID's case means nothing)
======  ======================================  =========================================

What a person types or a client sends may carry surrounding white space (a pasted
cell, a trailing new line) and a MYOB id may come in braces (``{...}``, the way
Windows writes a GUID); both are dropped, nothing else is forgiven. The layers that
read an id (the scrapers, the CLI's ``--org``, the API's ``OrgId``) keep it in the
stored form through ``parse_org_id``, and imports store the same form
(``tests/test_org_ids.py``), so ids compare by plain equality everywhere.

The browser extension applies the same rules (``extension/lib/org-id.js``); both are
held to one table of cases, ``tests/cases/org_ids.json``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from agent.domain import Portal

#: each id as a portal writes it in its URLs and JSON, to embed in a larger pattern
ID_SHAPES: Mapping[Portal, str] = MappingProxyType(
    {
        Portal.XERO: r"![A-Za-z0-9]{5}",
        Portal.QBO: r"[0-9]{10,19}",
        Portal.MYOB: r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
    }
)

#: what each portal calls its org and how its id is written, for messages
ID_HELP: Mapping[Portal, str] = MappingProxyType(
    {
        Portal.XERO: "a Xero short code is ! and five letters or digits, e.g. !x7Kp2",
        Portal.QBO: "a QuickBooks realm id is 10 to 19 digits, e.g. 9130352157364426",
        Portal.MYOB: "a MYOB business id is a UUID, e.g. 3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f",
    }
)

_LABELS: Mapping[Portal, str] = MappingProxyType(
    {Portal.XERO: "Xero", Portal.QBO: "QuickBooks", Portal.MYOB: "MYOB"}
)
_SHAPES = {portal: re.compile(shape) for portal, shape in ID_SHAPES.items()}
_BRACED = re.compile(r"\{(.*)\}", re.DOTALL)
_XERO_CODE = re.compile(r"[A-Za-z0-9]{5}")
_ANY_PORTAL_HELP = "xero is ! and five letters or digits (!x7Kp2), qbo 10 to 19 digits, myob a UUID"


def _quoted(text: str) -> str:
    """A value quoted for a message, cut short if long."""
    return repr(text if len(text) <= 60 else text[:57] + "...")


def _portal(portal: Portal | str) -> Portal:
    try:
        return Portal(portal)
    except ValueError:
        raise ValueError(f"{_quoted(str(portal))} is not a portal; use xero, qbo or myob") from None


def parse_org_id(portal: Portal | str, text: str) -> str:
    """The stored form of one of ``portal``'s org ids.

    Raises ``ValueError`` naming the portal, the value and the format it should have.
    """
    kind = _portal(portal)
    if not isinstance(text, str):
        raise ValueError(
            f"a {_LABELS[kind]} org id is text, not {type(text).__name__}; {ID_HELP[kind]}"
        )
    stripped = text.strip()
    if kind is Portal.MYOB and (braced := _BRACED.fullmatch(stripped)):
        inner = braced.group(1)
        if _SHAPES[kind].fullmatch(inner):
            return inner.lower()
    elif _SHAPES[kind].fullmatch(stripped):
        return stripped.lower() if kind is Portal.MYOB else stripped
    hint = (
        f" (did you mean !{stripped}?)"
        if kind is Portal.XERO and _XERO_CODE.fullmatch(stripped)
        else ""
    )
    raise ValueError(f"{_quoted(stripped)} is not a {_LABELS[kind]} org id{hint}; {ID_HELP[kind]}")


def parse_any_org_id(text: str) -> tuple[Portal, str]:
    """The portal an id belongs to, and its stored form; ``ValueError`` if it is none's."""
    for portal in Portal:
        try:
            return portal, parse_org_id(portal, text)
        except ValueError:
            continue
    shown = _quoted(text.strip()) if isinstance(text, str) else type(text).__name__
    raise ValueError(f"{shown} is not an org id of any portal: {_ANY_PORTAL_HELP}")
