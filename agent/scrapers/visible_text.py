"""The text a person sees in a read document, built from style alone, without layout.

``innerText`` is what a page's lines and cells are read by: it leaves out what a
style hides and breaks lines where a person sees them break. But it makes the
browser lay the whole document out first, and for a document of sixteen server
rendered pages that layout was half of a read's CPU in the renderer, the busiest
process of a crawl. What ``innerText`` takes from layout is, for the pages portals
serve, decided by computed style, which needs no layout:

* what has no box: ``display: none`` (the ``hidden`` attribute, a class that hides a
  template) and everything inside it is left out, as ``innerText`` leaves it out;
* where lines break: around block-level boxes (two breaks around a ``<p>``), at
  ``<br>``, after each table row; a tab between a row's cells;
* how white space collapses: runs of spaces, tabs and newlines are one space, and
  none at the start or end of a line (a block's, a cell's, beside a ``<br>``).

So the walk reads ``getComputedStyle`` element by element and builds the same text.
Where a document holds what style alone cannot settle the way ``innerText`` would
(``visibility`` other than visible, preserved white space, a text transform,
``content-visibility``, form controls, replaced and embedded elements, a table with a
role of another kind, an element with a role naming a table that is not one), it
answers ``null`` and the document is read laid out, by ``innerText``, as before.

It answers what ``reading``'s laid-out read answers, in the same shape: for every
section its lines, its tables' cells (tables as the role locator finds them: not
``aria-hidden``, not inside what has no box), their links with the row and cell
each is in, its links, and the items of an ``ItemSpec``. A cell or link with no
visible text reads as its ``textContent``, as ``innerText || textContent`` does.
"""

from __future__ import annotations

#: How either read gives a section's links, its tables' links (with the row and cell
#: each is in) and the items of an ``ItemSpec``, once its ``text`` of an element and the
#: read's ``spec`` are in scope (``reading._READ_SECTIONS`` reads the same shapes laid out).
SECTION_PARTS = """  const name = a => text(a).replace(/\\s+/g, ' ');
  const links = root => [...root.querySelectorAll('a[href]')]
    .map(a => [name(a), a.getAttribute('href')]);
  const cellLinks = t => [...t.querySelectorAll('a[href]')]
    .filter(a => a.closest('table') === t && a.closest('td, th'))
    .map(a => [a.closest('tr').rowIndex, a.closest('td, th').cellIndex, name(a),
               a.getAttribute('href')]);
  const items = section => !spec ? [] : [...section.querySelectorAll(spec[0])].map(el => {
    const row = {};
    for (const [field, selector] of spec[1]) {
      const found = el.querySelector(selector);
      row[field] = found ? text(found) : null;
    }
    if (spec[2]) row['@id'] = el.getAttribute(spec[2]);
    return row;
  });
"""

#: ``(spec) => JSON string | null``: the swapped-in document's sections, read as
#: ``reading._READ_SECTIONS`` reads them laid out; ``null`` when the walk cannot judge
#: the document without layout. ``spec`` is the read's ``ItemSpec`` as
#: ``[items, fields, attribute]``, or ``null``.
WALK_SECTIONS = """(spec) => {
  // tokens besides text: a line break a <br> forces, the tab after a cell, the newline
  // after a row, the edges of an inline block; a positive number is a required line
  // break count (innerText's own term)
  const BR = -1, TAB = -2, ROW = -3, OPEN = -4, CLOSE = -5;
  const BLOCK = 1, ATOM = 2, INLINE = 3, CELL = 4, TROW = 5, TPART = 6, CONTENTS = 7;
  const KIND = {
    'block': BLOCK, 'flex': BLOCK, 'grid': BLOCK, 'table': BLOCK, 'list-item': BLOCK,
    'flow-root': BLOCK, 'table-caption': BLOCK,
    'inline-block': ATOM, 'inline-flex': ATOM, 'inline-grid': ATOM, 'inline-table': ATOM,
    'inline': INLINE, 'contents': CONTENTS, 'table-cell': CELL, 'table-row': TROW,
    'table-row-group': TPART, 'table-header-group': TPART, 'table-footer-group': TPART,
    'table-column': TPART, 'table-column-group': TPART,
  };
  // what innerText reads by its layout, or not at all, in ways style cannot tell
  const UNSURE = new Set(['select', 'option', 'optgroup', 'datalist', 'textarea', 'details',
    'summary', 'math', 'iframe', 'object', 'embed', 'video', 'audio', 'canvas', 'picture',
    'ruby', 'rt', 'rp', 'marquee', 'slot', 'dialog', 'progress', 'meter', 'frameset']);
  // boxes of no text of their own (an image, an input's value, a drawing without text)
  const EMPTY = new Set(['img', 'input', 'svg']);
  const sections = [...document.body.children];
  const out = [], ranges = new Map(), tables = [], wanted = new Set(sections);
  if (spec) {
    for (const item of document.body.querySelectorAll(spec[0]))
      for (const [, selector] of spec[1]) {
        const found = item.querySelector(selector);
        if (found) wanted.add(found);
      }
  }
  let unsure = false;
  const visit = (e, ariaHidden) => {
    const tag = e.localName;
    if (tag === 'noscript') return;  // scripts run here: it has no box, whatever its style
    const style = getComputedStyle(e);
    const display = style.display;
    if (display === 'none') return;  // a closed dialog, a hidden control: nothing to judge
    if (UNSURE.has(tag) || e.shadowRoot) return (unsure = true);
    if (tag === 'svg' && e.querySelector('text, foreignObject')) return (unsure = true);
    const kind = KIND[display];
    if (kind === undefined) return (unsure = true);
    const empty = EMPTY.has(tag);
    // visibility where an element shows something of its own (text is checked with its
    // white space and case below); content-visibility where a box may skip its contents
    if (((kind !== INLINE && kind !== CONTENTS) || empty || tag === 'br')
        && style.visibility !== 'visible') return (unsure = true);
    if ((kind === BLOCK || kind === ATOM) && style.contentVisibility !== 'visible') {
      return (unsure = true);
    }
    const hidden = ariaHidden || (e.getAttribute('aria-hidden') || '').toLowerCase() === 'true';
    const role = e.getAttribute('role');
    if (tag === 'table') {
      if ((role !== null && role !== 'table') || kind === CONTENTS) return (unsure = true);
      if (!hidden) tables.push(e);
    } else if (role !== null && role.toLowerCase().includes('table')) return (unsure = true);
    const table = display === 'table' || display === 'inline-table';
    if (tag === 'p') out.push(2);
    else if (kind === BLOCK) out.push(1);
    // an inline image or input stands between the spaces beside it, as a block does
    const atom = kind === ATOM || (empty && kind === INLINE);
    if (atom) out.push(OPEN);
    const start = out.length;
    if (tag === 'br') out.push(BR);
    let textual = false;
    for (let n = empty ? null : e.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 3) {
        const text = n.data.replace(/[ \\t\\n\\r]+/g, ' ');
        if (!text) continue;
        if (table || kind === TROW || kind === TPART) {
          if (text === ' ') continue;  // white space between rows and cells: no box
          return (unsure = true);
        }
        if (!textual) {
          if (style.visibility !== 'visible' || style.whiteSpaceCollapse !== 'collapse'
              || style.textTransform !== 'none') return (unsure = true);
          textual = true;
        }
        out.push(text);
      } else if (n.nodeType === 1) {
        visit(n, hidden);
        if (unsure) return;
      }
    }
    if (tag === 'td' || tag === 'th' || tag === 'a' || wanted.has(e)) {
      ranges.set(e, [start, out.length]);
    }
    if (atom) out.push(CLOSE);
    if (tag === 'p') out.push(2);
    else if (kind === BLOCK) out.push(1);
    else if (kind === CELL) out.push(TAB);
    else if (kind === TROW) {
      if (out[out.length - 1] === TAB) out.pop();  // no tab after a row's last cell
      out.push(ROW);
    }
    if (table && out[out.length - 2] === ROW) out.splice(out.length - 2, 1);
  };
  // the text of tokens [s, e): spaces at the edges of lines dropped, a run of required
  // line breaks as the most of them, none at either end
  const finish = (s, e) => {
    const parts = [];
    let lead = true, last = -1;
    const strip = () => {
      if (last >= 0 && parts[last].endsWith(' ')) parts[last] = parts[last].slice(0, -1);
      last = -1;
    };
    for (let i = s; i < e; i++) {
      const t = out[i];
      if (typeof t === 'string') {
        const x = lead && t.charCodeAt(0) === 32 ? t.slice(1) : t;
        if (!x) continue;
        parts.push(x);
        last = parts.length - 1;
        lead = x.charCodeAt(x.length - 1) === 32;
      } else if (t > 0) { strip(); parts.push(t); lead = true; }
      else if (t === OPEN) { last = -1; lead = true; }
      else if (t === CLOSE) { strip(); lead = false; }
      else { strip(); parts.push(t === TAB ? '\\t' : '\\n'); lead = true; }
    }
    strip();
    let text = '', breaks = 0;
    for (const p of parts) {
      if (typeof p === 'number') { breaks = Math.max(breaks, p); continue; }
      if (!p) continue;
      if (breaks && text) text += '\\n'.repeat(breaks);
      breaks = 0;
      text += p;
    }
    return text;
  };
  for (const section of sections) {
    visit(section, false);
    if (unsure || !ranges.has(section)) return null;
  }
  const text = c => {
    const r = ranges.get(c);
    return ((r ? finish(r[0], r[1]) : '') || c.textContent || '').trim();
  };
  ${SECTION_PARTS}
  return JSON.stringify(sections.map(section => {
    const own = tables.filter(t => section.contains(t));
    return [
      finish(...ranges.get(section)).split('\\n')
        .map(s => s.replace(/\\s+/g, ' ').trim()).filter(Boolean),
      own.map(t => [...t.rows].map(r => [...r.cells].map(text))),
      own.map(cellLinks),
      links(section),
      items(section),
    ];
  }));
}""".replace("  ${SECTION_PARTS}\n", SECTION_PARTS)
