"""The remover for a portal."""

from __future__ import annotations

from agent.domain import Portal
from agent.scrapers.removal.base import Remover
from agent.scrapers.removal.myob import MyobRemover
from agent.scrapers.removal.qbo import QboRemover
from agent.scrapers.removal.xero import XeroRemover

_REMOVERS: dict[Portal, Remover] = {
    Portal.XERO: XeroRemover(),
    Portal.QBO: QboRemover(),
    Portal.MYOB: MyobRemover(),
}


def remover_for(portal: Portal | str) -> Remover:
    return _REMOVERS[Portal(portal)]
