/**
 * Which ledger org a page belongs to, read from its address.
 *
 * Only the service worker calls this. A content script never tells the worker which
 * org it is on: the worker reads the org off the sender tab's own URL, so a page can
 * only ever learn about the org it is. The addresses follow the portal contract the
 * sandbox portals implement (SPEC.md, see sandbox/portals), which copies the real
 * portals; the ids' formats and stored forms are lib/org-id.js's:
 *
 *   xero  /app/{shortCode}/...              "%21" is accepted for the code's "!"
 *   qbo   /app/company/{realmId}/...
 *   myob  /business/{businessId}/...        kept lower-case, as the agent stores it
 *
 * QuickBooks is the one portal whose real app does not always carry the company in
 * the address; there the worker may accept the realm id the page shows ("page where
 * needed"), but only on Intuit's own hosts and only in the realm-id shape.
 *
 * Hosts: each real portal on https only, plus http://127.0.0.1 and http://localhost on
 * any port, where the sandbox portals (tests, demo) serve all three kinds.
 */

import { ID_SHAPES, isOrgId, parseOrgId } from "./org-id.js";

export const PORTALS = Object.freeze(["xero", "qbo", "myob"]);

export const PORTAL_NAMES = Object.freeze({
  xero: "Xero",
  qbo: "QuickBooks Online",
  myob: "MYOB",
});

const LOCAL_HOSTS = new Set(["127.0.0.1", "localhost"]);

/** Real hosts per portal: the app host, or any subdomain of the vendor's domain. */
const REAL_HOSTS = Object.freeze({
  xero: ["xero.com"],
  qbo: ["intuit.com"],
  myob: ["myob.com"],
});

/** Where each portal's pages name the org: the id, then the page within it. */
const IN_PATH = Object.freeze({
  xero: new RegExp(`^/app/(${ID_SHAPES.xero})(/.*)?$`),
  qbo: new RegExp(`^/app/company/(${ID_SHAPES.qbo})(/.*)?$`),
  myob: new RegExp(`^/business/(${ID_SHAPES.myob})(/.*)?$`),
});

const USERS_PAGE = Object.freeze({
  xero: /^\/settings\/users\/?$/,
  qbo: /^\/manageusers\/?$/,
  myob: /^\/users\/?$/,
});

function parse(url) {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

function onDomain(hostname, domain) {
  return hostname === domain || hostname.endsWith(`.${domain}`);
}

/** The portal kinds that may be served at this address's host. */
export function portalsAt(url) {
  const address = parse(url);
  if (!address) {
    return [];
  }
  if (address.protocol === "http:" && LOCAL_HOSTS.has(address.hostname)) {
    return [...PORTALS];
  }
  if (address.protocol !== "https:") {
    return [];
  }
  return PORTALS.filter((portal) =>
    REAL_HOSTS[portal].some((domain) => onDomain(address.hostname, domain)));
}

/** Whether content scripts may speak for this address at all. */
export function isPortalAddress(url) {
  return portalsAt(url).length > 0;
}

function fromPath(portal, pathname) {
  const path = portal === "xero" ? pathname.replace(/^\/app\/%21/, "/app/!") : pathname;
  const match = IN_PATH[portal].exec(path);
  if (!match) {
    return null;
  }
  const rest = match[2] || "/";
  return { portal, orgId: parseOrgId(portal, match[1]), usersPage: USERS_PAGE[portal].test(rest) };
}

/**
 * The org of a page: `{portal, orgId, usersPage}`, or `null` for a page that is not
 * inside an org (sign-in, org lists, other sites).
 *
 * `pageHint` is what the page itself shows (`{qboRealmId}`), used only where the
 * address cannot say (QuickBooks on Intuit's hosts).
 */
export function detectOrg(url, pageHint = null) {
  const address = parse(url);
  if (!address) {
    return null;
  }
  for (const portal of portalsAt(url)) {
    const found = fromPath(portal, address.pathname);
    if (found) {
      return found;
    }
  }
  const realm = pageHint && typeof pageHint.qboRealmId === "string" ? pageHint.qboRealmId : "";
  if (address.protocol === "https:" && onDomain(address.hostname, "intuit.com")
      && address.pathname.startsWith("/app/") && isOrgId("qbo", realm)) {
    return { portal: "qbo", orgId: realm, usersPage: /\/manageusers\/?$/.test(address.pathname) };
  }
  return null;
}

/** One key per org, for chrome.storage entries. */
export function orgKey(org) {
  return `${org.portal}:${org.orgId}`;
}

/*
 * Check by hand (sandbox: `python -m sandbox serve`, then sign in):
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users          -> xero, users page
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers -> qbo, users page
 *   http://127.0.0.1:PORT/business/<uuid>/users              -> myob, users page
 *   http://127.0.0.1:PORT/myxero                             -> not an org
 */
