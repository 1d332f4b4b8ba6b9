/**
 * What the content script and the popup are given: the least each needs to draw.
 *
 * Content scripts run inside the portal's page, so they get display text only: the
 * banner's sentences and each visible row's label, never the token, the server's
 * address or anything about other orgs. The popup is the extension's own page and
 * gets the org's findings with their review states and ids (to propose a removal),
 * still without the token. Both say when the practice asked the client to remove
 * someone, until a scan shows it done; who must act on each finding (the practice, or
 * only the client, and why: the scan's `removable_by`); and which accounts are the
 * agent's own logins, to keep. Every date is written by lib/dates.js ("3 Mar 2026"),
 * never in the browser's locale.
 */

import { day, moment, readableDates } from "../lib/dates.js";
import {
  AGENT_LOGIN_LABEL,
  ago,
  badgeMark,
  classLabel,
  PROBLEM_SEVERITIES,
  reasonLabel,
  reviewLabel,
} from "../lib/marks.js";
import { PORTAL_NAMES } from "../lib/orgs.js";

const BANNER_SENTENCES = 3;
/** Roles the server lets propose a removal plan; it refuses the others itself. */
const PROPOSER_ROLES = Object.freeze(["practice_admin", "partner", "manager"]);

function isProblem(person) {
  return PROBLEM_SEVERITIES.includes(person.severity);
}

/** The server's `detail` sentence, with the person's name in front when it lacks one. */
export function sentenceFor(person) {
  const who = person.name || person.email;
  const detail = readableDates((person.detail || "").trim());
  let sentence;
  if (!detail) {
    sentence = `${who}: ${classLabel(person.finding_class).toLowerCase()}`;
  } else if (who && detail.startsWith(who)) {
    sentence = detail;
  } else {
    sentence = `${who}: ${detail}`;
  }
  if (person.review_state && person.review_state !== "open") {
    sentence += ` (${reviewLabel(person.review_state).toLowerCase()})`;
  }
  return sentence;
}

function bannerNote(status) {
  if (status.last_scan_failed) {
    return `Last scan failed: ${reasonLabel(status.last_scan_reason)}`;
  }
  if (status.stale) {
    return `Last scanned ${ago(status.last_ok_scan_at)}`;
  }
  return "";
}

/** The day the practice asked the client, as people write it: "3 Mar 2026". */
export function askedOn(request) {
  return day(request.requested_at);
}

/** The agent's own logins in the org (by email), as the server names them. */
function agentLogins(status) {
  return (status.agent_logins || []).filter((email) => typeof email === "string" && email);
}

/** "robot@practice.example is accessrecon's login: keep" */
export function agentLoginLine(email) {
  return `${email} is ${AGENT_LOGIN_LABEL}`;
}

/** One line per removal the practice asked of the client and no scan has shown done. */
export function requestedLines(status) {
  return (status.client_requests || []).map((r) => `${r.name || r.email}: removal requested `
    + `from the client on ${askedOn(r)}`);
}

/**
 * The banner, or `null` when the org has no open findings and nothing asked of the
 * client (or nothing is known).
 */
export function bannerFor(state) {
  if (state.kind !== "org") {
    return null;
  }
  const status = state.status;
  const requested = requestedLines(status);
  if (!status.open_problems && !requested.length) {
    return null;
  }
  const problems = (status.people || []).filter(isProblem);
  const items = problems.slice(0, BANNER_SENTENCES).map((person) => ({
    sentence: sentenceFor(person),
    who: whoCanRemove(person),
  }));
  const count = status.open_problems;
  return {
    severity: status.worst_severity || "low",
    title: count ? `accessrecon · ${count} open ${count === 1 ? "finding" : "findings"}`
      : "accessrecon · waiting for the client",
    note: bannerNote(status),
    items,
    more: Math.max(0, count - items.length),
    requested,
    keep: agentLogins(status).map(agentLoginLine),
  };
}

/**
 * Row labels for a users page: one per person the portal lists (not the missing ones),
 * and "accessrecon's login: keep" beside each of the agent's own logins.
 */
export function labelsFor(state) {
  if (state.kind !== "org") {
    return [];
  }
  const people = (state.status.people || [])
    .filter((p) => p.email && p.finding_class !== "missing_expected")
    .map((p) => ({
      email: p.email,
      label: classLabel(p.finding_class),
      severity: p.severity,
      pending: p.access_status === "pending",
    }));
  const logins = agentLogins(state.status).map((email) => ({
    email,
    label: AGENT_LOGIN_LABEL,
    severity: "keep",
    pending: false,
  }));
  return [...people, ...logins];
}

/** Why a direct invite is the client's to remove (agent/reports/labels.py `DIRECT_INVITE`). */
const DIRECT_INVITE = "the client invited them directly";

/**
 * Who must act on a finding, as the scan that showed it says (never the class's guess):
 * the practice, or only the client, and why. As every report says it
 * (agent/reports/labels.py `who_can_remove`), a direct invite is the client's to remove
 * even where the agent's login could: the client made it, so the practice asks them.
 */
export function whoCanRemove(person) {
  if (person.finding_class === "missing_expected") {
    return "The practice can fix it: invite them again, or end the grant";
  }
  if (person.finding_class === "invited_direct" && person.removable_by === "practice") {
    return `Ask the client to remove it: ${DIRECT_INVITE}`;
  }
  if (person.removable_by === "practice") {
    return "The practice can remove it";
  }
  if (person.removable_by === "client") {
    // the server's words for the reason (agent/reports/labels.py `reason_words`)
    const why = person.removable_reason_words || person.removable_reason;
    return why ? `Only the client can remove it: ${why}` : "Only the client can remove it";
  }
  return "";
}

export function contentDisplay(org, state, { collapsed, passiveCapture }) {
  return {
    org: { portal: org.portal, orgId: org.orgId, usersPage: org.usersPage },
    paired: state.kind !== "unpaired",
    banner: bannerFor(state),
    labels: org.usersPage ? labelsFor(state) : [],
    collapsed: Boolean(collapsed),
    passiveCapture: Boolean(passiveCapture) && state.kind !== "unpaired",
  };
}

function dashboardUrl(server, org) {
  return `${server}/dashboard/orgs/${encodeURIComponent(org.portal)}/`
    + `${encodeURIComponent(org.orgId)}`;
}

export function popupView(org, state, settings) {
  const view = {
    kind: state.kind,
    org: org ? { portal: org.portal, orgId: org.orgId, portalName: PORTAL_NAMES[org.portal],
      usersPage: Boolean(org.usersPage) } : null,
    server: settings.server,
    user: settings.user ? { name: settings.user.name, role: settings.user.role } : null,
    canPropose: Boolean(settings.user && PROPOSER_ROLES.includes(settings.user.role)),
    badge: org ? badgeMark(state) : null,
    dashboardUrl: org ? dashboardUrl(settings.server, org) : null,
    detail: state.detail || "",
  };
  if (state.kind !== "org") {
    return view;
  }
  const s = state.status;
  view.status = {
    name: s.name,
    client: s.client,
    clientManager: s.client_manager,
    clientArchived: s.client_archived,
    lastOkScanAt: s.last_ok_scan_at,
    lastOkScanAgo: s.last_ok_scan_at ? ago(s.last_ok_scan_at) : "",
    lastOkScanWhen: moment(s.last_ok_scan_at),
    lastScanAt: s.last_scan_at,
    lastScanStatus: s.last_scan_status,
    lastScanReason: s.last_scan_reason ? reasonLabel(s.last_scan_reason) : "",
    stale: s.stale,
    neverScanned: s.never_scanned,
    lastScanFailed: s.last_scan_failed,
    openProblems: s.open_problems,
    worstSeverity: s.worst_severity,
    peopleCount: s.people_count,
    pendingCount: s.pending_count,
    agentLogins: agentLogins(s),
  };
  const asked = new Map((s.client_requests || []).map((r) => [r.email, askedOn(r)]));
  view.findings = (s.people || []).filter(isProblem).map((p) => ({
    findingId: p.finding_id,
    clientAskedOn: asked.get(p.email) || "",
    name: p.name,
    email: p.email,
    label: classLabel(p.finding_class),
    severity: p.severity,
    review: reviewLabel(p.review_state),
    reviewState: p.review_state,
    role: p.role,
    pending: p.access_status === "pending",
    detail: readableDates(p.detail || ""),
    removableBy: whoCanRemove(p),
  }));
  const others = {};
  for (const person of (s.people || []).filter((p) => !isProblem(p))) {
    const label = classLabel(person.finding_class);
    others[label] = (others[label] || 0) + 1;
  }
  view.others = Object.entries(others).map(([label, count]) => ({ label, count }));
  return view;
}

/*
 * Check by hand: the banner and row labels of a sandbox org with findings,
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users
 * and the popup for that tab: chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/popup.html
 */
