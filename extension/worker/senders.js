/**
 * Who may send the worker a message, checked before any handler runs.
 *
 * Two kinds of sender exist and each message type names the one it accepts:
 *
 * * `content` — our content script in the top frame of a tab whose address is a
 *   portal's (a real portal host, or the sandbox on 127.0.0.1 / localhost), and not the
 *   accessrecon server itself. The org is then read from that tab's address
 *   (`pageAddress`), never from the message.
 * * `extension` — our own pages (popup, options): `chrome-extension://<our id>/...`.
 *
 * `sender.id` must be our extension id in both cases; the manifest's empty
 * externally_connectable also keeps other extensions and web pages out.
 */

import { isPortalAddress } from "../lib/orgs.js";

function ours(sender) {
  return Boolean(sender) && sender.id === chrome.runtime.id;
}

function sameOrigin(a, b) {
  try {
    return new URL(a).origin === new URL(b).origin;
  } catch {
    return false;
  }
}

export function isContentSender(sender, server) {
  return ours(sender)
    && Boolean(sender.tab) && typeof sender.tab.id === "number"
    && sender.frameId === 0
    && typeof sender.url === "string"
    && isPortalAddress(sender.url)
    && typeof sender.tab.url === "string" && isPortalAddress(sender.tab.url)
    && sameOrigin(sender.url, sender.tab.url)
    && !sameOrigin(sender.url, server);
}

/**
 * The address of the page a content script speaks for. The tab's address, not
 * `sender.url`: Chrome keeps `sender.url` at the document's first address, while a
 * single-page portal moves on with history.pushState (same origin, checked above).
 */
export function pageAddress(sender) {
  return sender.tab.url;
}

export function isExtensionSender(sender) {
  const base = chrome.runtime.getURL("");
  return ours(sender) && typeof sender.url === "string" && sender.url.startsWith(base)
    && (sender.origin === undefined || `${sender.origin}/` === base);
}

/*
 * Check by hand: a message from a page's own console (`chrome.runtime` is undefined
 * there), or from the sandbox portal's content script on the server's port, is refused.
 *   http://127.0.0.1:8765/api/v1/health
 */
