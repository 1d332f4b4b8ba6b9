/**
 * Reading Xero's pages: the org's name, and Settings → Users as a person sees it.
 *
 * Xero draws the users table in the browser a moment after the page arrives, from
 * its own JSON; this reads the table the person is looking at, once it is there. The
 * table is found by its column headers (Name, Permissions, Status); the Name cell
 * holds the name, then the email on a second line; the Permissions cell the role,
 * then one extra permission per line. `{N} users` above the table is the page's own
 * count, the evidence that the rows are the whole list.
 *
 * `list()` answers `{state: "complete", rows, shownCount, part: null}` only when the
 * rows number exactly the count; else `loading` or `incomplete` with a reason, and the
 * capture feature sends nothing.
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;
  const HEADERS = ["Name", "Permissions", "Status"];
  const COUNT = /^(\d+) users?$/;
  const STATUS = { Active: "active", Pending: "pending", Declined: "declined" };

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

  function readRow(tr, index) {
    const cells = tr.cells;
    const who = ar.linesOf(cells[index.Name] || tr);
    const access = ar.linesOf(cells[index.Permissions] || tr);
    const status = STATUS[ar.squash(ar.textOf(cells[index.Status] || tr))];
    const email = who[who.length - 1] || "";
    if (!email.includes("@") || !access.length || !status) {
      return null;
    }
    return {
      email,
      name: who.length > 1 ? who.slice(0, -1).join(" ") : "",
      role: access[0],
      status,
      extra_permissions: access.slice(1),
    };
  }

  function list(doc) {
    const main = root(doc);
    const counts = ar.findText(main, COUNT);
    const found = ar.tableWithHeaders(main, HEADERS);
    if (counts.length !== 1) {
      return { state: "loading", reason: "the page shows no user count yet" };
    }
    const shownCount = Number(COUNT.exec(ar.squash(ar.textOf(counts[0])))[1]);
    if (!found) {
      return { state: "loading", reason: "the users table is not there (yet)" };
    }
    const rows = [];
    for (const tr of ar.bodyRows(found.table)) {
      const row = readRow(tr, found.index);
      if (!row) {
        return { state: "incomplete", reason: "a row could not be read" };
      }
      rows.push(row);
    }
    if (rows.length !== shownCount) {
      return { state: "incomplete", reason: `${rows.length} rows, the page says ${shownCount}` };
    }
    return { state: "complete", rows, shownCount, part: null };
  }

  /** Where each row's label goes: after the email, at the end of the Name cell. */
  function rows(doc) {
    const found = ar.tableWithHeaders(root(doc), HEADERS);
    if (!found) {
      return [];
    }
    return ar.bodyRows(found.table).map((tr) => {
      const cell = tr.cells[found.index.Name];
      const lines = cell ? ar.linesOf(cell) : [];
      return { email: lines[lines.length - 1] || "", container: cell };
    }).filter((r) => r.container && r.email.includes("@"));
  }

  ar.registerPortal({ portal: "xero", root, orgName, pageHint: () => null, list, rows });
})();

/*
 * Check by hand (sandbox xero, signed in):
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users   (labels beside each email)
 *   http://127.0.0.1:PORT/app/!x7Kp2/homepage         (banner only)
 */
