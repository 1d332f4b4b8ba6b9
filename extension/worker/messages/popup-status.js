/**
 * `popup-status` (popup → worker): everything the popup shows about a tab's org.
 *
 * The popup names the tab (its own query string in tests, else the active tab); the
 * worker reads that tab's address and fetches the org's status, sets the badge again
 * (so the two always agree) and answers the view: org, client and client manager,
 * findings with their review states, scan times, the dashboard link. Never the token.
 *
 * Message: `{type: "popup-status", tabId}`. Answer: `{view}` (see worker/display.js).
 */

import { showBadge } from "../badge.js";
import { popupView } from "../display.js";
import { fetchOrgState } from "../org-state.js";
import { readSettings } from "../settings.js";
import { orgOfTab } from "../tabs.js";

export default {
  type: "popup-status",
  from: "extension",
  async handle(message) {
    const settings = await readSettings();
    if (!Number.isInteger(message.tabId)) {
      return { view: popupView(null, { kind: "not-org" }, settings) };
    }
    const org = await orgOfTab(message.tabId);
    if (!org) {
      return { view: popupView(null, { kind: "not-org" }, settings) };
    }
    const state = await fetchOrgState(org, settings);
    try {
      await showBadge(message.tabId, state);
    } catch {
      // the tab closed while the popup was opening
    }
    return { view: popupView(org, state, settings) };
  },
};

/*
 * Check by hand: with a sandbox org open in the active tab, click the toolbar button;
 * or open chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/popup.html?tab=TAB_ID
 */
