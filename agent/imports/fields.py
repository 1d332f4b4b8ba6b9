"""Field parsers shared by the imports: text, dates, yes/no, money, statuses, lists, emails.

Each parser takes one cell (text from a CSV, or a typed XLSX value) and returns a
clean value or raises ``FieldError`` with a reason a practice admin understands,
quoting what they wrote. Org ids have parsers of their own (``agent.imports.org_ids``),
as do job titles (``agent.imports.job_titles``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime, time
from typing import TypeVar

from agent.domain import StaffStatus
from agent.imports.errors import FieldError
from agent.imports.sheet import Cell
from agent.reconcile.identity import looks_like_email, normalise_email

T = TypeVar("T")

EXCEL_EXACT = 2**53
"""Beyond this a number held by Excel (a double) may have been rounded."""

_ISO_DATE = re.compile(r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[T ][0-9:.]+)?")
_DAY_FIRST = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})")
_MONEY = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?|\.\d+")
_CURRENCY = "$£€¥"
_TRUE = {"yes", "y", "true", "t", "1"}
_FALSE = {"no", "n", "false", "f", "0"}
_LIST_SPLIT = re.compile(r"[;,\t\r\n]+")
_PERMISSION_SPLIT = re.compile(r"[;\t\r\n]+")
_STATUSES = {
    "active": StaffStatus.ACTIVE,
    "on_leave": StaffStatus.ON_LEAVE,
    "left": StaffStatus.LEFT,
}


def show(cell: Cell) -> str:
    """A value quoted for a message, cut short if long."""
    text = str(cell)
    return repr(text if len(text) <= 60 else text[:57] + "...")


def to_text(cell: Cell) -> str | None:
    """A cell as text: a whole number without ``.0``, a date in ISO form; blank is None."""
    if cell is None:
        return None
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float) and cell.is_integer() and abs(cell) < EXCEL_EXACT:
        return str(int(cell))
    if isinstance(cell, datetime) and cell.time() == time(0):
        return cell.date().isoformat()
    if isinstance(cell, date | time):
        return cell.isoformat()
    text = str(cell).strip()
    return text or None


def parse_text(cell: Cell, *, max_length: int | None = None) -> str:
    text = to_text(cell) or ""
    if max_length is not None and len(text) > max_length:
        raise FieldError(f"is {len(text)} characters long; at most {max_length} fit")
    return text


def parse_date(cell: Cell) -> date:
    """A date: an Excel date cell, ``2025-03-03``, or day-first ``03/03/2025``."""
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    if isinstance(cell, bool | int | float):
        raise FieldError(
            f"{show(cell)} is a number, not a date; format the cell as a date "
            "or write it as 2025-03-03"
        )
    text = to_text(cell) or ""
    if match := _ISO_DATE.fullmatch(text):
        year, month, day = (int(g) for g in match.groups())
    elif match := _DAY_FIRST.fullmatch(text):
        day, month, year = (int(g) for g in match.groups())
    else:
        raise FieldError(
            f"{show(text)} is not a date; write it as 2025-03-03 or 03/03/2025 (day first)"
        )
    try:
        return date(year, month, day)
    except ValueError as exc:
        raise FieldError(f"{show(text)} is not a real date ({exc})") from exc


def parse_bool(cell: Cell) -> bool:
    """yes/no, true/false, y/n, 1/0 in any case, or an Excel TRUE/FALSE cell."""
    if isinstance(cell, bool):
        return cell
    if isinstance(cell, int | float) and cell in (0, 1):
        return bool(cell)
    word = (to_text(cell) or "").casefold()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise FieldError(f"{show(cell)} is not yes or no (use yes/no, true/false or 1/0)")


def parse_money(cell: Cell) -> float:
    """An amount: ``1200``, ``1,200.50``, ``$1,200.50``, ``-$5`` or ``($5.00)``."""
    if isinstance(cell, bool):
        raise FieldError(f"{show(cell)} is not an amount")
    if isinstance(cell, int | float):
        if not math.isfinite(cell):
            raise FieldError(f"{show(cell)} is not an amount")
        return float(cell)
    text = (to_text(cell) or "").replace(" ", "").replace("\u00a0", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text.startswith("-"):
        negative, text = not negative, text[1:]
    text = text.lstrip(_CURRENCY).rstrip(_CURRENCY)
    if not _MONEY.fullmatch(text):
        raise FieldError(f"{show(cell)} is not an amount; write it like 1200 or $1,200.50")
    value = float(text.replace(",", ""))
    return -value if negative else value


def parse_enum_word(cell: Cell, choices: dict[str, T], what: str, valid: str) -> T:
    word = re.sub(r"[\s_\-]+", "_", (to_text(cell) or "").casefold())
    try:
        return choices[word]
    except KeyError:
        raise FieldError(f"{show(cell)} is not {what}; use {valid}") from None


def parse_staff_status(cell: Cell) -> StaffStatus:
    """active, on leave (``on_leave``, ``On Leave``), or left."""
    return parse_enum_word(cell, _STATUSES, "a staff status", "active, on leave or left")


def split_list(text: str, separators: re.Pattern[str] = _LIST_SPLIT) -> list[str]:
    return [part.strip() for part in separators.split(text) if part.strip()]


def parse_permissions(cell: Cell) -> list[str]:
    """Extra permissions separated by ``;``, tabs or new lines, as written, once each."""
    return list(dict.fromkeys(split_list(to_text(cell) or "", _PERMISSION_SPLIT)))


def parse_email(cell: Cell, practice_domains: Iterable[str] = ()) -> str:
    """One address, normalised (see ``agent.reconcile.identity.normalise_email``)."""
    return normalise_email(check_email(to_text(cell) or ""), practice_domains)


def check_email(text: str) -> str:
    """``text`` itself if it has the form of an address, else ``FieldError`` quoting it."""
    if not looks_like_email(text):
        raise FieldError(f"{show(text)} is not an email address")
    return text


def parse_emails(cell: Cell, practice_domains: Iterable[str] = ()) -> list[str]:
    """Addresses separated by ``;``, ``,``, tabs or new lines, normalised, first one first.

    An address written twice (even spelt differently) is kept once; every bad address
    is named in one ``FieldError``.
    """
    domains = tuple(practice_domains)
    emails: list[str] = []
    bad: list[str] = []
    for part in split_list(to_text(cell) or ""):
        try:
            email = parse_email(part, domains)
        except FieldError:
            bad.append(show(part))
            continue
        if email not in emails:
            emails.append(email)
    if bad:
        verb = "is not an email address" if len(bad) == 1 else "are not email addresses"
        raise FieldError(f"{', '.join(bad)} {verb}")
    if not emails:
        raise FieldError("no email address given")
    return emails
