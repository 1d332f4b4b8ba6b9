/**
 * What the toolbar badge says about an org, and the words used for classes and states.
 *
 * One table for the worker (badge, banner) and the popup, so the three never disagree.
 * The badge has room for about four characters, so every state gets one short mark and
 * a colour; the tooltip (the action's title) says the rest in a sentence. The marks are
 * documented in extension/README.md ("Badge marks"); a test checks each one.
 */

export const SEVERITY_COLOURS = Object.freeze({
  critical: "#c62828",
  high: "#ef6c00",
  medium: "#ffb300",
  low: "#1565c0",
});

const GREEN = "#2e7d32";
const GREY = "#9e9e9e";
const DIM = "#616161";
const FAILED = "#6a1b9a";
const WHITE = "#ffffff";
const BLACK = "#000000";

/**
 * A finding class and a review state in the words the dashboard and every report use
 * (agent/reports/words.py `LABELS`; a test holds the two tables to each other).
 */
export const CLASS_LABELS = Object.freeze({
  leaver_access: "Leaver access",
  invited_direct: "Invited direct",
  unknown_practice_user: "Unknown practice user",
  probable_match: "Probable match",
  role_drift: "Role drift",
  archived_client_access: "Archived client access",
  unlinked_org: "Unlinked org",
  missing_expected: "Missing expected",
  managed: "Managed",
  client_user: "Client user",
});

export const REVIEW_LABELS = Object.freeze({
  open: "Open",
  acknowledged: "Acknowledged",
  accepted_risk: "Accepted risk",
  removal_requested: "Removal requested",
  verified_removed: "Verified removed",
});

/**
 * The agent's own login in an org, wherever a person might meet it (row label, banner,
 * popup): reconcile never reports it, so without a word here it would look like a
 * stranger's account, and removing it stops the org being read.
 */
export const AGENT_LOGIN_LABEL = "accessrecon's login: keep";

export const SCAN_REASONS = Object.freeze({
  login_failed: "sign-in failed",
  mfa_failed: "two-step code refused",
  session_expired: "the portal session ended",
  rate_limited: "the portal asked to slow down",
  no_permission: "the login may not view users",
  layout_changed: "the users page looked different",
  timeout: "the portal did not answer in time",
  portal_error: "the portal answered with an error",
  not_listed: "not in the login's org list",
});

/** Problems are what someone has to act on; the rest only label rows. */
export const PROBLEM_SEVERITIES = Object.freeze(["critical", "high", "medium", "low"]);

export function classLabel(findingClass) {
  return CLASS_LABELS[findingClass] || String(findingClass || "");
}

export function reviewLabel(state) {
  return REVIEW_LABELS[state] || String(state || "");
}

export function reasonLabel(reason) {
  return SCAN_REASONS[reason] || String(reason || "unknown reason");
}

function plural(n, one, many) {
  return `${n} ${n === 1 ? one : many}`;
}

/** "3 hours ago", "4 days ago": enough to judge freshness at a glance. */
export function ago(iso, now = Date.now()) {
  const then = Date.parse(iso || "");
  if (Number.isNaN(then)) {
    return "never";
  }
  const minutes = Math.max(0, Math.round((now - then) / 60000));
  if (minutes < 1) {
    return "just now";
  }
  if (minutes < 90) {
    return `${plural(minutes, "minute", "minutes")} ago`;
  }
  const hours = Math.round(minutes / 60);
  if (hours < 36) {
    return `${plural(hours, "hour", "hours")} ago`;
  }
  return `${plural(Math.round(hours / 24), "day", "days")} ago`;
}

/**
 * The badge for one state of the org in a tab.
 *
 * `state.kind` is `org` (with `state.status`, the server's org status), `unknown` (the
 * server has never listed the org, or it is outside the user's scope), `unpaired`,
 * or `offline` (the server did not answer).
 * Returns `{text, color, textColor, title}`.
 */
export function badgeMark(state) {
  const mark = (text, color, title, textColor = WHITE) => ({ text, color, textColor, title });
  if (state.kind === "unpaired") {
    return mark("pair", GREY, "accessrecon: not paired with a server (open the options page)");
  }
  if (state.kind === "offline") {
    return mark("off", GREY, "accessrecon: the server did not answer");
  }
  if (state.kind === "unknown") {
    return mark("?", GREY, "accessrecon: this org has never been scanned (or is outside "
      + "your clients)");
  }
  const s = state.status;
  const count = s.open_problems;
  const findings = plural(count, "open finding", "open findings");
  const name = s.name ? ` · ${s.name}` : "";
  if (s.last_scan_failed) {
    const since = s.last_ok_scan_at ? `; ${findings} from the scan of ${ago(s.last_ok_scan_at)}`
      : "; it has never been read";
    return mark("!", FAILED, `accessrecon: the last scan failed (${reasonLabel(
      s.last_scan_reason)})${since}${name}`);
  }
  if (s.never_scanned) {
    return mark("?", GREY, `accessrecon: this org has never been scanned${name}`);
  }
  if (s.stale) {
    return mark(String(count), DIM, `accessrecon: ${findings}, but the last scan was `
      + `${ago(s.last_ok_scan_at)}: it may be out of date${name}`);
  }
  if (!count) {
    return mark("0", GREEN, `accessrecon: no open findings${name}`);
  }
  const severity = s.worst_severity;
  const colour = SEVERITY_COLOURS[severity] || GREY;
  return mark(String(count), colour, `accessrecon: ${findings}, worst ${severity}${name}`,
    severity === "medium" ? BLACK : WHITE);
}

/*
 * Check by hand: open any org page of a sandbox portal with the extension paired, hover
 * the toolbar button: the tooltip is the title above, the badge the mark.
 *   http://127.0.0.1:PORT/app/!x7Kp2/homepage
 */
