/**
 * Tabs and the orgs they show: the org of a tab, and bringing a tab up to date.
 *
 * The worker reads a tab's address itself (the manifest's host permissions let it see
 * the address of portal tabs only) and derives the org with lib/orgs.js. After a
 * re-scan or a capture the badge is set again and the tab's content script is handed
 * its new display data, so the banner and row labels change without a reload.
 */

import { orgKey, detectOrg } from "../lib/orgs.js";
import { showBadge } from "./badge.js";
import { contentDisplay } from "./display.js";
import { fetchOrgState } from "./org-state.js";
import { readSettings, sessionGet } from "./settings.js";

export function collapsedKey(org) {
  return `collapsed:${orgKey(org)}`;
}

/** The org of a tab, or `null` (closed, not a portal, or not inside an org). */
export async function orgOfTab(tabId) {
  let tab;
  try {
    tab = await chrome.tabs.get(tabId);
  } catch {
    return null;
  }
  return tab && tab.url ? detectOrg(tab.url) : null;
}

/** The content script's display data for `org` in its current state. */
export async function displayFor(org, state, settings) {
  const collapsed = await sessionGet(collapsedKey(org), false);
  return contentDisplay(org, state, { collapsed, passiveCapture: settings.passiveCapture });
}

/** Tell a tab's content script what to draw now; a tab without one is simply skipped. */
export async function sendDisplay(tabId, display) {
  try {
    await chrome.tabs.sendMessage(tabId, { type: "display", display }, { frameId: 0 });
  } catch {
    // no content script there (not loaded yet, or the tab moved on): the next page
    // load asks for itself
  }
}

/**
 * Fetch the org's state again and show it in the tab: badge, banner, row labels.
 * `expected` (an org) skips the work if the tab has moved on to another org.
 */
export async function refreshTab(tabId, expected = null) {
  const org = await orgOfTab(tabId);
  if (!org || (expected && orgKey(org) !== orgKey(expected))) {
    return null;
  }
  const settings = await readSettings();
  const state = await fetchOrgState(org, settings);
  try {
    await showBadge(tabId, state);
  } catch {
    return null;
  }
  await sendDisplay(tabId, await displayFor(org, state, settings));
  return state;
}

/*
 * Check by hand: open http://127.0.0.1:PORT/app/!x7Kp2/settings/users, press
 * "Re-scan now" in the popup: badge and banner change when the scan is done.
 */
