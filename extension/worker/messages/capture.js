/**
 * `capture` (content script → worker): the user list a person is looking at.
 *
 * Passive capture (on unless turned off in the options): on an org's users page the
 * content script reads the rows and the count the page itself states, and sends them
 * only once the whole list is on screen. The worker holds it to the same rule again
 * before anything leaves the browser: the rows must number exactly what the page
 * said, so an empty list goes out only when the page said 0 (DESIGN.md, "No false
 * empties"). The server checks a third time and records an ok scan with source
 * `extension`, then reconciles the org and answers its new status.
 *
 * QuickBooks splits users over two tabs ("Users" and "Accounting firms"), each with its
 * own `{a}-{b} of {N}`. One tab is not the org's user list, so each tab's complete list
 * is kept (chrome.storage.session, 15 minutes) until the other tab has been seen too;
 * then both go as one capture whose count is the sum of the two.
 *
 * The same list of the same org is not sent twice within 10 minutes.
 *
 * Message: `{type: "capture", list: {orgName, part, rows: [{email, name, role, status,
 * extra_permissions}], shownCount}}` (`part`: "users" or "firms" on QuickBooks, else
 * null). Answer: `{ok: true, scanId, display}`, `{ok: true, waitingFor}` (QuickBooks,
 * one tab seen), `{ok: true, repeat: true}`, or `{ok: false, reason}`.
 */

import { detectOrg, orgKey } from "../../lib/orgs.js";
import { ApiError, request } from "../api.js";
import { showBadge } from "../badge.js";
import { fetchOrgState } from "../org-state.js";
import { pageAddress } from "../senders.js";
import { readSettings, sessionGet, sessionRemove, sessionSet } from "../settings.js";
import { displayFor } from "../tabs.js";

const MAX_ROWS = 20000;
const PART_TTL_MS = 15 * 60 * 1000;
const REPEAT_MS = 10 * 60 * 1000;
const STATUSES = new Set(["active", "pending", "declined", "inactive"]);
const QBO_PARTS = ["users", "firms"];

function text(value, max) {
  return typeof value === "string" && value.length <= max ? value : null;
}

function cleanRow(row) {
  if (!row || typeof row !== "object") {
    return null;
  }
  const email = text(row.email, 320);
  const name = text(row.name ?? "", 500);
  const role = text(row.role ?? "", 100);
  const extras = Array.isArray(row.extra_permissions) ? row.extra_permissions : [];
  if (!email || email.trim().length < 3 || name === null || role === null
      || !STATUSES.has(row.status) || extras.length > 50
      || extras.some((p) => text(p, 100) === null)) {
    return null;
  }
  return { email: email.trim(), name, role, status: row.status, extra_permissions: extras };
}

/** The list as sent, or a reason it cannot be trusted as complete. */
function cleanList(list, portal) {
  if (!list || typeof list !== "object" || !Array.isArray(list.rows)
      || list.rows.length > MAX_ROWS) {
    return { reason: "the capture is not a list of users" };
  }
  const shownCount = list.shownCount;
  if (!Number.isInteger(shownCount) || shownCount < 0) {
    return { reason: "the page's own count of users was not read" };
  }
  const rows = list.rows.map(cleanRow);
  if (rows.some((r) => r === null)) {
    return { reason: "a row could not be read" };
  }
  if (rows.length !== shownCount) {
    return { reason: `the page says ${shownCount} users but ${rows.length} rows were read` };
  }
  const part = portal === "qbo" ? list.part : null;
  if (portal === "qbo" && !QBO_PARTS.includes(part)) {
    return { reason: "a QuickBooks capture names its tab" };
  }
  const orgName = (text(list.orgName ?? "", 500) || "").trim();
  return { rows, shownCount, part, orgName };
}

/** QuickBooks: keep this tab's list; the whole org once both tabs are in. */
async function combineQboTabs(org, list) {
  const key = `captureParts:${orgKey(org)}`;
  const now = Date.now();
  const parts = await sessionGet(key, {});
  parts[list.part] = { rows: list.rows, shownCount: list.shownCount, at: now };
  for (const name of QBO_PARTS) {
    if (parts[name] && now - parts[name].at > PART_TTL_MS) {
      delete parts[name];
    }
  }
  const missing = QBO_PARTS.filter((name) => !parts[name]);
  if (missing.length) {
    await sessionSet(key, parts);
    return { waitingFor: missing[0] };
  }
  await sessionRemove(key);
  return {
    rows: QBO_PARTS.flatMap((name) => parts[name].rows),
    shownCount: QBO_PARTS.reduce((sum, name) => sum + parts[name].shownCount, 0),
    orgName: list.orgName,
  };
}

function fingerprint(rows, shownCount) {
  const canonical = JSON.stringify([shownCount, rows.map((r) => [r.email.toLowerCase(),
    r.name, r.role, r.status, [...r.extra_permissions].sort()]).sort()]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < canonical.length; i += 1) {
    hash = Math.imul(hash ^ canonical.charCodeAt(i), 0x01000193) >>> 0;
  }
  return `${canonical.length}:${hash.toString(16)}`;
}

async function isRepeat(org, rows, shownCount) {
  const key = `lastCapture:${orgKey(org)}`;
  const print = fingerprint(rows, shownCount);
  const last = await sessionGet(key);
  if (last && last.print === print && Date.now() - last.at < REPEAT_MS) {
    return true;
  }
  await sessionSet(key, { print, at: Date.now() });
  return false;
}

export default {
  type: "capture",
  from: "content",
  async handle(message, sender) {
    const org = detectOrg(pageAddress(sender));
    if (!org || !org.usersPage) {
      return { ok: false, reason: "captures come from an org's users page only" };
    }
    const settings = await readSettings();
    if (!settings.passiveCapture) {
      return { ok: false, reason: "passive capture is turned off" };
    }
    if (!settings.token) {
      return { ok: false, reason: "not paired" };
    }
    let list = cleanList(message.list, org.portal);
    if (list.reason) {
      return { ok: false, reason: list.reason };
    }
    if (org.portal === "qbo") {
      const combined = await combineQboTabs(org, list);
      if (combined.waitingFor) {
        return { ok: true, waitingFor: combined.waitingFor };
      }
      list = combined;
    }
    if (await isRepeat(org, list.rows, list.shownCount)) {
      return { ok: true, repeat: true };
    }
    try {
      const answer = await request("/captures", {
        method: "POST",
        settings,
        body: {
          portal: org.portal,
          portal_org_id: org.orgId,
          org_name: list.orgName || org.orgId,
          users: list.rows,
          shown_count: list.shownCount,
        },
      });
      // The capture's answer is the org as reconciled just now: it is what is drawn. The
      // agent's own logins in the org ("keep" labels) come only with the status the
      // badge reads, and a capture never changes them, so they are taken from there (a
      // status read at once may still be the one from before the capture, cached).
      const known = await fetchOrgState(org, settings);
      const agentLogins = known.kind === "org" ? known.status.agent_logins || [] : [];
      const state = { kind: "org", status: { ...answer.org, agent_logins: agentLogins } };
      await showBadge(sender.tab.id, state);
      return { ok: true, scanId: answer.scan_id, display: await displayFor(org, state, settings) };
    } catch (error) {
      await sessionRemove(`lastCapture:${orgKey(org)}`);
      const reason = error instanceof ApiError ? error.detail : String(error);
      return { ok: false, reason };
    }
  },
};

/*
 * Check by hand: open a users page and wait for the whole list (MYOB: scroll to the
 * end; QuickBooks: open both tabs), then look for a scan with source "extension":
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers?tab=firms
 *   http://127.0.0.1:PORT/business/<uuid>/users
 */
