/**
 * What the content script and the popup are given: the least each needs to draw.
 *
 * Content scripts run inside the portal's page, so they get display text only: the
 * banner's sentences and each visible row's label, never the token, the server's
 * address or anything about other orgs. The popup is the extension's own page and
 * gets the org's findings with their review states and ids (to propose a removal),
 * still without the token. Both say when the practice asked the client to remove
 * someone, until a scan shows it done.
 */

import { ago, badgeMark, classLabel, PROBLEM_SEVERITIES, reasonLabel, reviewLabel }
  from "../lib/marks.js";
import { PORTAL_NAMES } from "../lib/orgs.js";

const BANNER_SENTENCES = 3;
/** Roles the server lets propose a removal plan; it refuses the others itself. */
const PROPOSER_ROLES = Object.freeze(["practice_admin", "partner", "manager"]);

function isProblem(person) {
  return PROBLEM_SEVERITIES.includes(person.severity);
}

const ISO_DATE = /\b(\d{4})-(\d{2})-(\d{2})\b/g;
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
  "Dec"];

/** "2026-03-03" as people write it: "3 Mar 2026". */
export function readableDates(text) {
  return text.replace(ISO_DATE, (whole, year, month, day) => {
    const name = MONTHS[Number(month) - 1];
    return name ? `${Number(day)} ${name} ${year}` : whole;
  });
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
  return readableDates(String(request.requested_at || "").slice(0, 10));
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
  const sentences = problems.slice(0, BANNER_SENTENCES).map(sentenceFor);
  const count = status.open_problems;
  return {
    severity: status.worst_severity || "low",
    title: count ? `accessrecon · ${count} open ${count === 1 ? "finding" : "findings"}`
      : "accessrecon · waiting for the client",
    note: bannerNote(status),
    sentences,
    more: Math.max(0, count - sentences.length),
    requested,
  };
}

/** Row labels for a users page: one per person the portal lists (not the missing ones). */
export function labelsFor(state) {
  if (state.kind !== "org") {
    return [];
  }
  return (state.status.people || [])
    .filter((p) => p.email && p.finding_class !== "missing_expected")
    .map((p) => ({
      email: p.email,
      label: classLabel(p.finding_class),
      severity: p.severity,
      pending: p.access_status === "pending",
    }));
}

/** Who can take an access away, as the scan that showed it says (never the class's guess). */
export function whoCanRemove(person) {
  if (person.removable_by === "practice") {
    return "Removable by the practice";
  }
  if (person.removable_by === "client") {
    return person.removable_reason
      ? `Only the client can remove it: ${person.removable_reason}`
      : "Only the client can remove it";
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
