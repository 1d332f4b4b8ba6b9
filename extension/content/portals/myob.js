/**
 * Reading MYOB Business's pages: the business's name, and Users and permissions.
 *
 * Each user or advisor is a card (an `article` named by the person) with lines
 * `Email: …`, `Access: User|Advisor`, `User type: File user|Online admin`,
 * `Roles: a, b`, and an `Invited` badge while the invitation is pending. The first 20
 * cards come with the page; more load as the person scrolls to the end of the list.
 * `Showing {n} of {N}` is the page's own count: the list is complete only when
 * n equals N and N cards are on screen.
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;
  const SHOWING = /^Showing (\d+) of (\d+)$/;

  function root(doc) {
    return doc.querySelector("main") || doc.body;
  }

  function orgName(doc) {
    const bar = doc.querySelector("[data-org-name]");
    if (bar) {
      return bar.getAttribute("data-org-name") || "";
    }
    const heading = doc.querySelector("h1");
    return heading ? ar.squash(ar.textOf(heading)) : "";
  }

  function field(lines, label) {
    const prefix = `${label}: `;
    const line = lines.find((l) => l.startsWith(prefix));
    return line === undefined ? null : line.slice(prefix.length).trim();
  }

  function readCard(card) {
    const heading = card.querySelector("h1, h2, h3, h4");
    const lines = ar.linesOf(card);
    const email = field(lines, "Email");
    const userType = field(lines, "User type");
    const roles = field(lines, "Roles");
    if (!email || !email.includes("@") || userType === null || roles === null
        || field(lines, "Access") === null) {
      return null;
    }
    const shown = heading ? ar.squash(ar.textOf(heading)) : "";
    return {
      email,
      name: shown === email ? "" : shown,
      role: userType,
      status: lines.includes("Invited") ? "pending" : "active",
      extra_permissions: roles ? roles.split(",").map((r) => r.trim()).filter(Boolean) : [],
    };
  }

  function list(doc) {
    const main = root(doc);
    const counts = ar.findText(main, SHOWING);
    if (counts.length !== 1) {
      return { state: "incomplete", reason: "the page shows no count of users" };
    }
    const [, shown, total] = SHOWING.exec(ar.squash(ar.textOf(counts[0]))).map(Number);
    if (shown !== total) {
      return { state: "loading", reason: `showing ${shown} of ${total}: scroll to load the rest` };
    }
    const rows = [];
    for (const card of main.querySelectorAll("article")) {
      const row = readCard(card);
      if (!row) {
        return { state: "incomplete", reason: "a card could not be read" };
      }
      rows.push(row);
    }
    if (rows.length !== total) {
      return { state: "incomplete", reason: `${rows.length} cards, the page says ${total}` };
    }
    return { state: "complete", rows, shownCount: total, part: null };
  }

  /** Where each card's label goes: at the end of its `Email: …` line. */
  function rows(doc) {
    const found = [];
    for (const card of root(doc).querySelectorAll("article")) {
      for (const line of card.querySelectorAll("p, dd, span, div")) {
        const text = ar.squash(ar.textOf(line));
        if (line.children.length === 0 || [...line.children].every(ar.isOurs)) {
          if (text.startsWith("Email: ")) {
            found.push({ email: text.slice(7).trim(), container: line });
            break;
          }
        }
      }
    }
    return found;
  }

  ar.registerPortal({ portal: "myob", root, orgName, pageHint: () => null, list, rows });
})();

/*
 * Check by hand (sandbox myob, signed in; scroll to the end of the cards):
 *   http://127.0.0.1:PORT/business/<uuid>/users
 */
