"""How a report sheet prints: what a practice gets from "Print" or a PDF conversion.

A4 landscape, the header rows (and the band over them) repeated on every page, the
sheet's title and "as of" line in the page header, "Page n of m" below. A table is
fitted to the width of one page, because a list whose right-hand columns land on a
separate page cannot be read. Rows never break (a spreadsheet keeps a row whole),
and wrapped cells keep their words whole (``agent.reports.column_widths``).

A matrix cannot fit one page wide: it is printed a block of columns at a time
(``PagedAcross``). The breaks fall between columns, before each column the report
asks to start a page (orgs linked to no client get pages of their own), and every
page repeats the frozen columns; the scale is chosen, once the widths are known, so
the widest block fits its page.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from itertools import pairwise

from xlsxwriter.worksheet import Worksheet

PAPER_A4 = 9
SIDE_MARGIN = 0.4  # inches
#: The printable width of an A4 landscape page, in screen pixels at 100 %.
PRINTABLE_PIXELS = (297 / 25.4 - 2 * SIDE_MARGIN) * 96
#: The scale a matrix is planned for: small enough for several clients a page,
#: large enough to read.
MATRIX_SCALE = 65
MIN_SCALE = 40
#: What a block's scale leaves spare: an application that draws the sheet in another
#: font makes every column wider (LibreOffice without Calibri, in DejaVu Sans: by
#: 39 %), and a block that overflows its page would be split at a place nobody chose.
SCALE_SPARE = 0.7
_HEADER_TEXT_MAX = 120


def column_pixels(width: float) -> int:
    """A column ``width`` characters wide, in pixels (a digit is 7, plus 5 of margin)."""
    return int(width * 7 + 0.5) + 5


def _header_text(text: str) -> str:
    """Page header text: ``&`` starts a code there, so it is doubled; kept short."""
    short = text if len(text) <= _HEADER_TEXT_MAX else text[: _HEADER_TEXT_MAX - 1] + "…"
    return short.replace("&", "&&")


def set_up_page(worksheet: Worksheet, *, title: str, as_of: str, repeat: tuple[int, int]) -> None:
    """A4 landscape, ``repeat`` (first and last row) on every page, title and page number."""
    worksheet.set_landscape()
    worksheet.set_paper(PAPER_A4)
    worksheet.set_margins(left=SIDE_MARGIN, right=SIDE_MARGIN, top=0.6, bottom=0.5)
    worksheet.repeat_rows(*repeat)
    worksheet.set_header(f"&L&8{_header_text(title)}&R&8{_header_text(as_of)}")
    worksheet.set_footer("&C&8Page &P of &N")


def fit_to_width(worksheet: Worksheet) -> None:
    """One page wide, as many pages tall as the rows take."""
    worksheet.fit_to_pages(1, 0)


class PagedAcross:
    """A wide sheet printed a block of columns at a time, frozen columns on each page.

    The blocks are planned when the sheet starts (the band over the header is written
    then, and names its group again at each block's first column), from the widths
    the columns may grow to; ``apply`` sets the breaks and the scale from the widths
    they ended with.
    """

    def __init__(
        self, limits: Sequence[float], frozen: int, new_page_at: Collection[int] = ()
    ) -> None:
        self.frozen = frozen
        budget = PRINTABLE_PIXELS * 100 * SCALE_SPARE / MATRIX_SCALE
        room = budget - sum(column_pixels(w) for w in limits[:frozen])
        forced = sorted(i for i in new_page_at if frozen < i < len(limits))
        starts: list[int] = []
        for a, b in pairwise([frozen, *forced, len(limits)]):
            if a > frozen:
                starts.append(a)
            sizes = [column_pixels(w) for w in limits[a:b]]
            starts += [a + i for i in _even_blocks(sizes, room)]
        self.starts: tuple[int, ...] = tuple(starts)

    def apply(self, worksheet: Worksheet, widths: Sequence[float]) -> None:
        """Breaks before each block, the frozen columns repeated, and the planned scale,
        or a smaller one if the widest block needs it (a staff column grew wide)."""
        fixed = sum(column_pixels(w) for w in widths[: self.frozen])
        edges = [self.frozen, *self.starts, len(widths)]
        widest = max(
            (fixed + sum(column_pixels(w) for w in widths[a:b]) for a, b in pairwise(edges)),
            default=fixed,
        )
        scale = math.floor(PRINTABLE_PIXELS * 100 * SCALE_SPARE / max(widest, 1))
        worksheet.set_print_scale(max(MIN_SCALE, min(MATRIX_SCALE, scale)))
        if self.starts:
            worksheet.set_v_pagebreaks(list(self.starts))
        if self.frozen:
            worksheet.repeat_columns(0, self.frozen - 1)


def _blocks(sizes: Sequence[int], room: float) -> list[int]:
    """Where each block after the first starts, filling each up to ``room``."""
    starts: list[int] = []
    used = 0
    for i, size in enumerate(sizes):
        if i and used + size > room:
            starts.append(i)
            used = 0
        used += size
    return starts


def _even_blocks(sizes: Sequence[int], room: float) -> list[int]:
    """As few blocks as ``room`` allows, about equally full: never one column left alone
    on a page that the others could have shared."""
    pages = len(_blocks(sizes, room)) + 1
    if pages == 1:
        return []
    even = min(room, sum(sizes) / pages + max(sizes) - 1)
    balanced = _blocks(sizes, even)
    return balanced if len(balanced) + 1 <= pages else _blocks(sizes, room)
