/**
 * Reading QuickBooks Online's pages: the company's name, and Manage users per tab.
 *
 * Manage users has two tabs, Users (Name, Email, User type, Status) and Accounting
 * firms (Firm, Name, Email, Status, every one an Accountant), 25 rows a page with
 * `{a}-{b} of {N}` under each table. A tab's list is complete only when the whole of
 * it is on screen: `1-{N} of {N}` with N rows, or the tab's own empty text (`No users
 * to show`, `No accounting firms`), which is its count of 0. The worker joins the two
 * tabs into one capture (worker/messages/capture.js).
 *
 * `pageHint()` offers the realm id the page shows, for Intuit's hosts where the
 * address may not carry it; the worker alone decides whether to use it.
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;
  const USERS = ["Name", "Email", "User type", "Status"];
  const FIRMS = ["Firm", "Name", "Email", "Status"];
  const RANGE = /^(\d+)\s*[-–]\s*(\d+) of (\d+)$/;
  const EMPTY = { users: /^No users to show$/, firms: /^No accounting firms$/ };
  const STATUS = { Active: "active", Invited: "pending", Inactive: "inactive" };
  const REALM = /^[0-9]{10,19}$/;

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

  function pageHint(doc) {
    const marked = doc.querySelector("[data-org-id]");
    const realm = marked ? marked.getAttribute("data-org-id") || "" : "";
    return REALM.test(realm) ? { qboRealmId: realm } : null;
  }

  function currentTab(doc) {
    const tab = new URL(doc.location.href).searchParams.get("tab") || "users";
    return tab === "firms" ? "firms" : "users";
  }

  function tableOf(main) {
    const firms = ar.tableWithHeaders(main, FIRMS);
    if (firms) {
      return { part: "firms", ...firms };
    }
    const users = ar.tableWithHeaders(main, USERS);
    return users ? { part: "users", ...users } : null;
  }

  function readRow(tr, found) {
    const cell = (name) => ar.squash(ar.textOf(tr.cells[found.index[name]] || null));
    const status = STATUS[cell("Status")];
    const email = cell("Email");
    if (!status || !email.includes("@")) {
      return null;
    }
    return {
      email,
      name: cell("Name"),
      role: found.part === "firms" ? "Accountant" : cell("User type"),
      status,
      extra_permissions: [],
    };
  }

  function list(doc) {
    const main = root(doc);
    const part = currentTab(doc);
    const found = tableOf(main);
    if (!found) {
      if (ar.findText(main, EMPTY[part]).length === 1) {
        return { state: "complete", rows: [], shownCount: 0, part };
      }
      return { state: "incomplete", reason: "no users table and no empty-tab text" };
    }
    if (found.part !== part) {
      return { state: "incomplete", reason: "the table does not match the selected tab" };
    }
    const ranges = ar.findText(main, RANGE);
    if (ranges.length !== 1) {
      return { state: "incomplete", reason: "the page shows no range of users" };
    }
    const [, first, last, total] = RANGE.exec(ar.squash(ar.textOf(ranges[0]))).map(Number);
    if (first !== 1 || last !== total) {
      return { state: "incomplete", reason: `only ${first}-${last} of ${total} are on screen` };
    }
    const rows = [];
    for (const tr of ar.bodyRows(found.table)) {
      const row = readRow(tr, found);
      if (!row) {
        return { state: "incomplete", reason: "a row could not be read" };
      }
      rows.push(row);
    }
    if (rows.length !== total) {
      return { state: "incomplete", reason: `${rows.length} rows, the page says ${total}` };
    }
    return { state: "complete", rows, shownCount: total, part };
  }

  /** Where each row's label goes: at the end of its Email cell. */
  function rows(doc) {
    const found = tableOf(root(doc));
    if (!found) {
      return [];
    }
    return ar.bodyRows(found.table).map((tr) => {
      const cell = tr.cells[found.index.Email];
      return { email: cell ? ar.squash(ar.textOf(cell)) : "", container: cell };
    }).filter((r) => r.container && r.email.includes("@"));
  }

  ar.registerPortal({ portal: "qbo", root, orgName, pageHint, list, rows });
})();

/*
 * Check by hand (sandbox qbo, signed in):
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers?tab=users
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers?tab=firms
 */
