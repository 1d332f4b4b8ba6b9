/**
 * Row labels: on an org's users page, each person's finding class beside their email.
 *
 * "Leaver access", "Invited direct", "Managed", "Client user"…, coloured like the badge
 * by severity; the agent's own login says "accessrecon's login: keep" (dark), so nobody
 * tidying the list removes it. Each label is its own closed shadow root with a text node; the portal's
 * row and its text are left as they were (content/core.js reads rows without our
 * labels). Portals redraw their lists (Xero renders after load, MYOB appends cards as
 * the person scrolls), so new rows are labelled as they appear.
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;

  const CSS = `
    :host { all: initial; display: inline-block; margin-left: 6px; vertical-align: baseline; }
    .tag {
      display: inline-block; padding: 0 6px; border-radius: 9px;
      font: 600 11px/17px system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
      white-space: nowrap; color: #ffffff; background: #6e7781;
    }
    .critical { background: #c62828; }
    .high { background: #ef6c00; }
    .medium { background: #ffb300; color: #000000; }
    .low { background: #1565c0; }
    .ok { background: #2e7d32; }
    .info { background: #eaeef2; color: #424a53; }
    .keep { background: #24292f; }
  `;

  /**
   * Emails as the server compares them (agent/reconcile/identity.py): case, Unicode
   * compatibility forms, surrounding spaces and a plus-tag on any domain do not matter
   * (a "+" that starts the address is not a tag); the domain is after the last "@".
   */
  function normal(email) {
    const text = String(email).normalize("NFKC").toLowerCase().normalize("NFKC").trim();
    const at = text.lastIndexOf("@");
    if (at < 0) {
      return text;
    }
    const local = text.slice(0, at);
    const untagged = local.split("+")[0];
    const domain = text.slice(at + 1).replace(/[\s.]+$/u, "").trim();
    return `${(untagged.trim() ? untagged : local).trim()}@${domain}`;
  }

  function run(ctx, signal) {
    const labels = new Map(ctx.display.labels.map((l) => [normal(l.email), l]));
    const added = new Set();
    const apply = () => {
      for (const row of ctx.adapter.rows(document)) {
        const label = labels.get(normal(row.email));
        const present = [...row.container.children].some((c) => ar.isOurs(c));
        if (!label || present) {
          continue;
        }
        const { host, root } = ar.shadowHost("label", CSS);
        const text = label.pending ? `${label.label} · invite pending` : label.label;
        root.append(ar.el("span", {
          text,
          className: `tag ${label.severity}`,
          attrs: { title: `accessrecon: ${text}` },
        }));
        row.container.append(host);
        added.add(host);
      }
      return null;
    };
    ar.watch(ctx.adapter.root(document), apply, { signal });
    signal.addEventListener("abort", () => {
      for (const host of added) {
        host.remove();
      }
    }, { once: true });
  }

  ar.registerFeature({
    name: "row-labels",
    applies: (ctx) => ctx.display.org.usersPage && ctx.display.labels.length > 0,
    run,
  });
})();

/*
 * Check by hand (sandbox, signed in):
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers?tab=firms
 *   http://127.0.0.1:PORT/business/<uuid>/users
 */
