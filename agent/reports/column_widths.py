"""How wide each column of a report is, and which of its cells wrap.

One rule for every workbook: a column is as wide as its longest value, up to its
limit (``Column.width``); a longer value wraps onto more lines in its cell, so it is
read whole on screen and on paper rather than cut at the next cell's edge. Lines
break at spaces and after hyphens (a MYOB org id wraps at its dashes); a single word
longer than the limit (an e-mail) widens the column up to ``WORD_MAX`` instead,
because a spreadsheet breaks such a word anywhere, and an address split mid-way
reads as two. The header never decides a width on its own: it wraps, within two or
three lines, over whatever its values need.

The workbook is streamed (``agent.reports.xlsx``), so a cell's format is chosen when
it is written and the widths are set when the sheet is finished: a value that may
end up wider than its column is written wrapping from the start. Widths are counted
in the spreadsheet's unit, about one digit of the default font; letters that are
wider than a digit (capitals, ``m``, ``w``, ``@``, CJK) count for more, so a value
measured to fit does fit.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from functools import lru_cache

from agent.reports.common import CellKind, Column

#: The widest a column grows for one unbreakable word before the word wraps too.
WORD_MAX = 48.0
#: Room for the cell's margins (and a filter button in the header).
PADDING = 1.5
#: The narrowest a column is, whatever its values.
MIN_WIDTH = 4.0
#: Bold text is about a tenth wider.
BOLD_FACTOR = 1.1
#: No character counts for more than this (a CJK ideograph): a text of ``n``
#: characters is at most ``n * WIDEST`` wide, which lets most cells skip measuring.
WIDEST = 2.0
#: What a date or a time takes in the workbook's formats (``d mmm yyyy hh:mm``, then
#: the room of a space that every date and number format ends in).
DATETIME_TEXT = "30 Sep 2026 23:59 "
DATE_TEXT = "30 Sep 2026 "

_WIDE_ASCII = {"M": 1.5, "W": 1.6, "@": 1.6, "m": 1.3, "w": 1.3, "%": 1.3, "&": 1.2}
#: ASCII measured in C: each character becomes as many fifths of a digit as it is wide,
#: so the length of the translation, over five, is the width.
_FIFTHS = str.maketrans(
    {
        chr(c): "x" * round(5 * _WIDE_ASCII.get(chr(c), 1.2 if chr(c).isupper() else 1.0))
        for c in range(128)
    }
)
#: Where a line may break: before a run of spaces, or after a hyphen.
_PIECES = re.compile(r"\S+?-|\S+")


def text_width(text: str) -> float:
    """The width (in digit widths) of the longest line of ``text``."""
    if "\n" in text:
        return max(text_width(line) for line in text.split("\n"))
    if text.isascii():
        return len(text.translate(_FIFTHS)) / 5
    return _unicode_width(text)


@lru_cache(maxsize=4096)
def _unicode_width(text: str) -> float:
    width = 0.0
    for char in text:
        if char.isascii():
            width += len(char.translate(_FIFTHS)) / 5
        elif unicodedata.east_asian_width(char) in ("W", "F"):
            width += WIDEST
        else:
            width += 1.2
    return width


def _pieces(line: str) -> list[tuple[str, bool]]:
    """The unbreakable pieces of a line, each with whether a space comes before it."""
    out: list[tuple[str, bool]] = []
    for word in line.split():
        out += [(piece, i == 0) for i, piece in enumerate(_PIECES.findall(word))]
    return out


def longest_word(text: str) -> float:
    """The width of the longest piece of text a line cannot break inside."""
    return max(
        (text_width(piece) for line in text.split("\n") for piece, _ in _pieces(line)),
        default=0.0,
    )


def wrapped_lines(text: str, width: float) -> int:
    """How many lines ``text`` takes in a column ``width`` wide, wrapped where it may break."""
    room = max(width - PADDING, 1.0)
    lines = 0
    for paragraph in text.split("\n"):
        lines += 1
        used = 0.0
        for piece, spaced in _pieces(paragraph):
            size = text_width(piece) + (1 if spaced and used else 0)
            if used and used + size > room:
                lines += 1
                used, size = 0.0, text_width(piece)
            used += size
            while used > room:  # a piece wider than the column breaks anywhere
                lines += 1
                used -= room
    return max(lines, 1)


def header_floor(column: Column) -> float:
    """The narrowest the column may be for its header to wrap in two or three lines.

    Never narrower than the header's longest word, so a title is not broken mid-word.
    """
    title = text_width(column.title) * BOLD_FACTOR
    word = longest_word(column.title) * BOLD_FACTOR + PADDING
    half = math.ceil(title / 2) + PADDING
    return max(MIN_WIDTH, word, min(half, max(column.width, MIN_WIDTH)))


def value_text(kind: CellKind, value: object) -> str:
    """A value as the workbook shows it, for measuring."""
    if isinstance(value, date):
        dated = kind is CellKind.DATE or not isinstance(value, datetime)
        return DATE_TEXT if dated else DATETIME_TEXT
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if kind is CellKind.MONEY:
            return f"{value:,.2f} "
        if kind is CellKind.INT or isinstance(value, int):
            return f"{value:,.0f} "
        return f"{value:,} "
    return str(value)


class ColumnFit:
    """One column's width so far, grown by each value written into it.

    ``fixed`` columns (a matrix's upright-headed client columns) keep their width,
    and any value wider than it wraps.
    """

    __slots__ = ("fixed", "limit", "safe_length", "width")

    def __init__(self, column: Column, *, fixed: bool = False) -> None:
        self.fixed = fixed
        self.limit = max(float(column.width), MIN_WIDTH)
        self.width = self.limit if fixed else min(header_floor(column), WORD_MAX)
        self.safe_length = 0
        self._update_safe()

    def _update_safe(self) -> None:
        # A text this many characters long fits the width so far, whatever its letters.
        self.safe_length = int((self.width - PADDING) / WIDEST)

    def text(self, text: str, *, bold: bool = False) -> bool:
        """Take ``text`` into the column; whether its cell must wrap."""
        lines = "\n" in text
        if len(text) <= self.safe_length and not lines:
            return False
        factor = BOLD_FACTOR if bold else 1.0
        line = text_width(text) * factor
        if line + PADDING <= self.width:
            # The width only grows: a line that fits it now fits it when the sheet is done.
            return lines
        if not self.fixed:
            if line <= self.limit:
                need = line
            else:
                need = max(self.limit, min(longest_word(text) * factor, WORD_MAX))
            self.width = max(self.width, need + PADDING)
            self._update_safe()
        return lines or line + PADDING > self.width

    def value(self, kind: CellKind, value: object, *, bold: bool = False) -> None:
        """Take a number, date or other non-text value into the column (these never wrap)."""
        if self.fixed:
            return
        need = text_width(value_text(kind, value)) * (BOLD_FACTOR if bold else 1.0) + PADDING
        if need > self.width:
            self.width = need
            self._update_safe()
