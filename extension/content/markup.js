/**
 * The markup of a users page saved for support: which part of the page is the list,
 * and the list written out again with only what the recipe reads, redacted.
 *
 * A page the recipe reads keeps its list alone: the table the recipe finds by its
 * headers (the header row, the cells of the columns it reads, the links of its id
 * column, nothing of the other columns) or the items it finds by their selectors (their
 * elements and class names, the fields' texts, the id attribute), then the range and
 * empty texts on lines of their own. A page the recipe does not read keeps its list
 * region (the smallest part of the page holding every e-mail and the range and empty
 * texts), every text and attribute by content/redact.js's rules.
 *
 * Markup is written here as text, never parsed into the live page: the writer emits
 * only elements it knows, a few attributes (class names, ids, roles, id-like data
 * attributes, same-origin link paths without query), and escapes every text and value.
 */

(() => {
  "use strict";

  if (globalThis.accessreconMarkup) {
    return;
  }

  const rd = globalThis.accessreconRedact;
  const TOKEN_NAME = /^[A-Za-z][\w-]*$/;
  const TABLE_PARTS = new Set(["thead", "tbody", "tfoot", "tr", "td", "th", "caption",
    "colgroup", "col"]);

  /** The org id in a path, quoted as the agent quotes it (`!` too). */
  function quoteOrg(orgId) {
    return encodeURIComponent(orgId).replace(/[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  }

  const DROP = new Set(["script", "style", "noscript", "template", "iframe", "frame",
    "frameset", "object", "embed", "svg", "math", "img", "picture", "video", "audio",
    "canvas", "input", "textarea", "select", "option", "optgroup", "datalist", "button",
    "meta", "link", "base", "head", "title", "slot", "dialog"]);
  const KEEP = new Set(["main", "section", "article", "header", "footer", "nav", "aside",
    "div", "span", "p", "ul", "ol", "li", "dl", "dt", "dd", "table", "caption", "thead",
    "tbody", "tfoot", "tr", "th", "td", "h1", "h2", "h3", "h4", "h5", "h6", "a", "strong",
    "em", "b", "i", "small", "time", "label", "output", "abbr", "code", "mark", "br",
    "figure", "figcaption", "details", "summary"]);

  function escapeText(text) {
    return String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  }

  function escapeAttribute(text) {
    return escapeText(text).replace(/"/g, "&quot;");
  }

  /** An element as markup: its name, the attributes given (escaped), its inner markup. */
  function element(name, attributes, inner) {
    const attrs = attributes.map(([k, v]) => ` ${k}="${escapeAttribute(v)}"`).join("");
    return name === "br" ? `<br${attrs}>` : `<${name}${attrs}>${inner}</${name}>`;
  }

  /** A link's path on the page's own origin, e-mails in it replaced; null otherwise. */
  function safePath(href, pageUrl, r) {
    let url;
    try {
      url = new URL(href, pageUrl);
    } catch {
      return null;
    }
    if (url.origin !== new URL(pageUrl).origin) {
      return null;
    }
    return url.pathname.split("/").map((segment) => {
      let decoded;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        return "";
      }
      return decoded.includes("@") ? encodeURIComponent(r.email(decoded)) : segment;
    }).join("/");
  }

  function classes(value) {
    return value.split(/\s+/).filter((t) => TOKEN_NAME.test(t)).join(" ");
  }

  /** The attributes of an element a recipe may locate it by; nothing else. */
  function attributesOf(el, r, pageUrl) {
    const kept = [];
    for (const { name, value } of el.attributes) {
      if (name === "class" && classes(value)) {
        kept.push(["class", classes(value)]);
      } else if ((name === "id" && TOKEN_NAME.test(value)) || (name === "role" && /^[a-z]+$/.test(value))
          || (["colspan", "rowspan"].includes(name) && /^\d{1,3}$/.test(value))
          || (name === "scope" && /^(row|col|rowgroup|colgroup)$/.test(value))
          || (name.startsWith("data-") && !rd.SECRET_KEY.test(name) && rd.idLike(value))) {
        kept.push([name, value]);
      } else if (name === "href" && el.localName === "a") {
        const path = safePath(value, pageUrl, r);
        if (path) {
          kept.push(["href", path]);
        }
      }
    }
    return kept;
  }

  /** Every e-mail in a region's text and links, registered before anything is written. */
  function registerRegion(root, r) {
    const walker = root.ownerDocument.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      for (const found of node.data.matchAll(rd.EMAIL_RUN)) {
        r.person(found[0], "");
      }
    }
  }

  /** A region of a page as markup, every text and attribute by the rules above. */
  function regionMarkup(node, r, pageUrl) {
    if (node.nodeType === Node.TEXT_NODE) {
      const text = node.data;
      if (!text.trim()) {
        return text ? " " : "";
      }
      const lead = /^\s/.test(text) ? " " : "";
      const tail = /\s$/.test(text) ? " " : "";
      return lead + escapeText(r.text(text)) + tail;
    }
    if (node.nodeType !== Node.ELEMENT_NODE || DROP.has(node.localName)) {
      return "";
    }
    const inner = [...node.childNodes].map((child) => regionMarkup(child, r, pageUrl)).join("");
    if (!KEEP.has(node.localName)) {
      return inner;
    }
    return element(node.localName, attributesOf(node, r, pageUrl), inner);
  }

  /** Distinct `{a}-{b} of {N}` texts of the lines (whole lines first), as the reader finds them. */
  function rangesIn(lines, pattern) {
    const whole = lines.flatMap((line) => [...line.matchAll(pattern)].filter((m) => m[0] === line));
    const found = whole.length ? whole : lines.flatMap((line) => [...line.matchAll(pattern)]);
    const distinct = new Map();
    for (const m of found) {
      const { first, last, total } = m.groups;
      distinct.set(`${first}-${last}-${total}`, {
        text: m[0], first: Number(first), last: Number(last), total: Number(total),
      });
    }
    return [...distinct.values()];
  }

  /** The one table with every header of the list, once each; its header row's names. */
  function tableOf(doc, headers) {
    const found = [...doc.querySelectorAll("table")].filter((table) => {
      const names = table.rows.length ? [...table.rows[0].cells].map((c) => rd.squash(c.textContent))
        : [];
      return headers.every((h) => names.filter((n) => n === h).length === 1);
    });
    return found.length === 1 ? found[0] : null;
  }

  /** How a fetched page holds its list: as the recipe reads it, empty, or unknown. */
  function layoutOf(fetched) {
    const { part, doc, lines } = fetched;
    const empty = lines.includes(part.empty_text);
    if (part.table) {
      const table = tableOf(doc, part.table);
      if (table) {
        return { kind: "table", table };
      }
    } else {
      const items = [...doc.querySelectorAll(part.items)];
      const complete = items.length && items.every((item) => Object.values(part.columns)
        .every((selector) => item.querySelector(selector)));
      if (complete) {
        return { kind: "items", items };
      }
    }
    return empty && !fetched.ranges.length ? { kind: "empty" } : { kind: "unknown" };
  }

  function idPattern(template, orgId) {
    const body = template.replace(/\/$/, "").split(/(\{org\}|\{user\})/).map((p) => {
      if (p === "{org}") {
        return `(?:${[orgId, quoteOrg(orgId)].map((o) => o.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"))
          .join("|")})`;
      }
      return p === "{user}" ? "[^/]+" : p.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    }).join("");
    return new RegExp(`^${body}/?$`);
  }

  function columnsOf(part, names) {
    const fields = {};
    for (const [field, header] of Object.entries(part.columns)) {
      fields[names.indexOf(header)] = field;
    }
    return fields;
  }

  function isDataRow(cells, header) {
    return cells.length >= header.length && cells.some((c, i) => c !== header[i]);
  }

  function registerTable(table, part, r) {
    const rows = [...table.rows].map((row) => [...row.cells].map((c) => rd.squash(c.textContent)));
    const fields = columnsOf(part, rows[0]);
    for (const cells of rows.slice(1).filter((cells) => isDataRow(cells, rows[0]))) {
      const value = (field) => {
        const at = Object.keys(fields).find((i) => fields[i] === field);
        return at === undefined ? "" : cells[at] || "";
      };
      r.person(value("email"), value("name"));
      if (value("firm")) {
        r.firm(value("firm"));
      }
    }
  }

  /** The list's table: its header row, and of each row the cells the recipe reads. */
  function tableMarkup(table, part, r, pageUrl, orgId) {
    const rows = [...table.rows];
    const header = [...rows[0].cells].map((c) => rd.squash(c.textContent));
    const fields = columnsOf(part, header);
    const idColumn = part.id_column ? header.indexOf(part.id_column) : -1;
    const ids = part.id_link ? idPattern(part.id_link, orgId) : null;
    const cell = (c, inner) => element(c.localName, [["colspan", c.colSpan], ["rowspan", c.rowSpan]]
      .filter(([, v]) => v > 1).map(([k, v]) => [k, String(v)]), inner);
    const head = element("tr", [], [...rows[0].cells]
      .map((c, i) => cell(c, escapeText(r.text(header[i])))).join(""));
    const body = rows.slice(1).map((row) => {
      const texts = [...row.cells].map((c) => rd.squash(c.textContent));
      if (!isDataRow(texts, header)) {
        return element("tr", [], [...row.cells]
          .map((c, i) => cell(c, escapeText(r.text(texts[i])))).join(""));
      }
      const at = (field) => texts[Object.keys(fields).find((i) => fields[i] === field)] || "";
      const n = r.person(at("email"), at("name"));
      return element("tr", [], [...row.cells].map((c, i) => {
        if (fields[i] !== undefined) {
          return cell(c, escapeText(r.field(fields[i], texts[i], n)));
        }
        if (i === idColumn && ids) {
          const links = [...c.querySelectorAll("a[href]")]
            .map((a) => safePath(a.getAttribute("href"), pageUrl, r))
            .filter((path) => path && ids.test(path));
          return cell(c, links.map((path) => element("a", [["href", path]], "")).join(""));
        }
        return cell(c, "");
      }).join(""));
    }).join("");
    return element("table", [], element("thead", [], head) + element("tbody", [], body));
  }

  function registerItems(items, part, r) {
    for (const item of items) {
      const text = (field) => {
        const selector = part.columns[field];
        const found = selector ? item.querySelector(selector) : null;
        return found ? rd.squash(found.textContent) : "";
      };
      r.person(text("email"), text("name"));
      if (text("firm")) {
        r.firm(text("firm"));
      }
    }
  }

  /** An item: its elements and class names, the fields' texts, its id attribute. */
  function itemMarkup(node, item, part, r, n) {
    const fieldOf = new Map();
    for (const [field, selector] of Object.entries(part.columns)) {
      const found = item.querySelector(selector);
      if (found && !fieldOf.has(found)) {
        fieldOf.set(found, field);
      }
    }
    const walk = (el) => {
      const attrs = el.getAttribute("class") && classes(el.getAttribute("class"))
        ? [["class", classes(el.getAttribute("class"))]] : [];
      if (el === item && part.id_attribute && el.hasAttribute(part.id_attribute)) {
        const id = el.getAttribute(part.id_attribute);
        attrs.push([part.id_attribute, rd.idLike(id) ? id : r.text(id)]);
      }
      const name = /^[a-z][a-z0-9]*$/.test(el.localName) ? el.localName : "div";
      if (DROP.has(name)) {
        return "";
      }
      if (fieldOf.has(el)) {
        const field = fieldOf.get(el);
        return element(name, attrs, escapeText(r.field(field, rd.squash(el.textContent), n)));
      }
      return element(name, attrs, [...el.children].map(walk).join(""));
    };
    return walk(node);
  }

  function itemsMarkup(items, part, r) {
    const parent = items[0].parentElement;
    const inner = items.map((item) => {
      const text = (field) => {
        const found = part.columns[field] ? item.querySelector(part.columns[field]) : null;
        return found ? rd.squash(found.textContent) : "";
      };
      return itemMarkup(item, item, part, r, r.person(text("email"), text("name")));
    }).join("");
    const name = parent && /^[a-z][a-z0-9]*$/.test(parent.localName) ? parent.localName : "div";
    const attrs = parent && parent.getAttribute("class") && classes(parent.getAttribute("class"))
      ? [["class", classes(parent.getAttribute("class"))]] : [];
    return element(name, attrs, inner);
  }

  /** The smallest part of the page holding every e-mail and the range and empty texts. */
  function listRegion(fetched) {
    const { doc, part } = fetched;
    const marked = [];
    const walker = doc.createTreeWalker(doc.body, NodeFilter.SHOW_TEXT);
    const range = rd.rangePattern(part.range);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const text = rd.squash(node.data);
      if (text && (text.match(rd.EMAIL_RUN) || [...text.matchAll(range)].length
          || text === part.empty_text)) {
        marked.push(node.parentElement);
      }
    }
    if (!marked.length) {
      return doc.querySelector("main") || doc.body;
    }
    let region = marked[0];
    while (region && !marked.every((el) => region.contains(el))) {
      region = region.parentElement;
    }
    while (region && (TABLE_PARTS.has(region.localName) || region.localName === "li")) {
      region = region.parentElement;
    }
    return region || doc.body;
  }

  function linesMarkup(fetched, r) {
    const { part, lines } = fetched;
    const kept = fetched.ranges.map((found) => found.text);
    if (lines.includes(part.empty_text)) {
      kept.push(part.empty_text);
    }
    return kept.map((line) => element("p", [], escapeText(r.text(line)))).join("");
  }

  /** One fetched page as it is saved: its list, range and empty texts, redacted. */
  function pageMarkup(fetched, layout, r, orgId, pageUrl) {
    const { part } = fetched;
    if (layout.kind === "unknown") {
      const region = listRegion(fetched);
      const inner = regionMarkup(region, r, pageUrl);
      return region.localName === "main" ? inner : element("main", [], inner);
    }
    let list = "";
    if (layout.kind === "table") {
      list = tableMarkup(layout.table, part, r, pageUrl, orgId);
    } else if (layout.kind === "items") {
      list = itemsMarkup(layout.items, part, r);
    }
    return element("main", [], list + linesMarkup(fetched, r));
  }

  /** Every person and firm of a page, numbered before any page is written. */
  function registerPage(fetched, layout, r) {
    if (layout.kind === "table") {
      registerTable(layout.table, fetched.part, r);
    } else if (layout.kind === "items") {
      registerItems(layout.items, fetched.part, r);
    } else if (layout.kind === "unknown") {
      registerRegion(listRegion(fetched), r);
    }
  }

  globalThis.accessreconMarkup = Object.freeze({
    quoteOrg,
    rangesIn,
    layoutOf,
    registerPage,
    pageMarkup,
  });
})();

/*
 * Check by hand (sandbox, signed in, extension paired): save a QuickBooks users page for
 * support, then `accessrecon portal fixtures show N` shows the table and nothing else.
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers?tab=firms
 */
