/**
 * The toolbar badge of one tab.
 *
 * Badges are set per tab: Chrome resets a tab's values when the tab loads another
 * document, so a page that is not an org shows nothing without any work here. A
 * same-document navigation (a single-page portal changing its address) keeps them;
 * the content script reports those and the worker clears the badge itself.
 */

import { badgeMark } from "../lib/marks.js";

export async function showBadge(tabId, state) {
  const mark = badgeMark(state);
  await Promise.all([
    chrome.action.setBadgeText({ tabId, text: mark.text }),
    chrome.action.setBadgeBackgroundColor({ tabId, color: mark.color }),
    chrome.action.setBadgeTextColor({ tabId, color: mark.textColor }),
    chrome.action.setTitle({ tabId, title: mark.title }),
  ]);
  return mark;
}

export async function clearBadge(tabId) {
  await Promise.all([
    chrome.action.setBadgeText({ tabId, text: "" }),
    chrome.action.setTitle({ tabId, title: "accessrecon" }),
  ]);
}

/*
 * Check by hand: an org page of a sandbox portal (badge), then its org list
 *   http://127.0.0.1:PORT/myxero   (no badge)
 */
