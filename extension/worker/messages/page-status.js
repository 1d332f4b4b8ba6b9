/**
 * `page-status` (content script → worker): "what should this page show?"
 *
 * Sent by the content script when a portal page loads and whenever a single-page
 * portal changes its address. The worker reads the org off the sender's own address
 * (a page cannot name another org), sets the tab's badge, and answers the display data
 * for the banner and row labels. A page that is not inside an org gets `display: null`
 * and a cleared badge.
 *
 * Message: `{type: "page-status", hint?: {qboRealmId}}`; `hint` is only used on
 * Intuit's hosts, where the address may not carry the company (lib/orgs.js).
 * Answer: `{display: null | {org, paired, banner, labels, collapsed, passiveCapture}}`.
 */

import { detectOrg } from "../../lib/orgs.js";
import { clearBadge, showBadge } from "../badge.js";
import { fetchOrgState } from "../org-state.js";
import { pageAddress } from "../senders.js";
import { readSettings } from "../settings.js";
import { displayFor } from "../tabs.js";

function hintOf(message) {
  const realm = message.hint && message.hint.qboRealmId;
  return typeof realm === "string" && realm.length <= 19 ? { qboRealmId: realm } : null;
}

export default {
  type: "page-status",
  from: "content",
  async handle(message, sender) {
    const tabId = sender.tab.id;
    const org = detectOrg(pageAddress(sender), hintOf(message));
    if (!org) {
      await clearBadge(tabId);
      return { display: null };
    }
    const settings = await readSettings();
    const state = await fetchOrgState(org, settings);
    await showBadge(tabId, state);
    return { display: await displayFor(org, state, settings) };
  },
};

/*
 * Check by hand: http://127.0.0.1:PORT/app/!x7Kp2/homepage (badge and banner), then
 * http://127.0.0.1:PORT/myxero (nothing).
 */
