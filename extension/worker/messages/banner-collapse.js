/**
 * `banner-collapse` (content script → worker): remember the banner folded or open.
 *
 * Remembered per org for the browser session (chrome.storage.session, which content
 * scripts cannot read or write themselves), so folding the banner on one page of an
 * org folds it on every page of that org until the browser closes.
 *
 * Message: `{type: "banner-collapse", collapsed: boolean}`. Answer: `{collapsed}`.
 */

import { detectOrg } from "../../lib/orgs.js";
import { pageAddress } from "../senders.js";
import { sessionSet } from "../settings.js";
import { collapsedKey } from "../tabs.js";

export default {
  type: "banner-collapse",
  from: "content",
  async handle(message, sender) {
    const org = detectOrg(pageAddress(sender));
    if (!org) {
      return { error: "this page is not inside an org" };
    }
    const collapsed = message.collapsed === true;
    await sessionSet(collapsedKey(org), collapsed);
    return { collapsed };
  },
};

/*
 * Check by hand: fold the banner on http://127.0.0.1:PORT/app/!x7Kp2/homepage, open
 * http://127.0.0.1:PORT/app/!x7Kp2/settings/users: still folded.
 */
