/**
 * The accessrecon service worker: the only part of the extension that holds the token
 * and talks to the accessrecon server.
 *
 * It is a switchboard. Each message type has one small handler in worker/messages/,
 * listed in HANDLERS below; each handler names the sender it accepts (`content` or
 * `extension`, checked in worker/senders.js before it runs). Two handlers for one
 * type is an error at start-up, and a test checks that every file in worker/messages/
 * is listed here and documented in README.md.
 *
 * Chrome stops an idle worker at any moment, so listeners are registered at the top
 * level on every start and no state is kept in memory: settings and the token are
 * read from chrome.storage on each event.
 */

import { isContentSender, isExtensionSender } from "./worker/senders.js";
import { readSettings } from "./worker/settings.js";
import { ALARM, pollWatchedScans } from "./worker/scan-watch.js";
import bannerCollapse from "./worker/messages/banner-collapse.js";
import capture from "./worker/messages/capture.js";
import pageStatus from "./worker/messages/page-status.js";
import pair from "./worker/messages/pair.js";
import popupStatus from "./worker/messages/popup-status.js";
import requestRemoval from "./worker/messages/request-removal.js";
import rescan from "./worker/messages/rescan.js";
import saveFixture from "./worker/messages/save-fixture.js";
import scanProgress from "./worker/messages/scan-progress.js";
import settingsGet from "./worker/messages/settings-get.js";
import settingsSet from "./worker/messages/settings-set.js";
import unpair from "./worker/messages/unpair.js";

const HANDLERS = [
  pageStatus,
  bannerCollapse,
  capture,
  popupStatus,
  rescan,
  scanProgress,
  requestRemoval,
  saveFixture,
  pair,
  unpair,
  settingsGet,
  settingsSet,
];

function registry(handlers) {
  const byType = new Map();
  for (const handler of handlers) {
    if (byType.has(handler.type)) {
      throw new Error(`two handlers for the message type ${handler.type}`);
    }
    if (!["content", "extension"].includes(handler.from)) {
      throw new Error(`the handler for ${handler.type} names no sender kind`);
    }
    byType.set(handler.type, handler);
  }
  return byType;
}

const BY_TYPE = registry(HANDLERS);

/** Only the worker's own contexts may read the token: content scripts are refused. */
async function lockStorage() {
  try {
    await chrome.storage.local.setAccessLevel({ accessLevel: "TRUSTED_CONTEXTS" });
  } catch {
    // older Chrome: local storage cannot be locked; content scripts still never read it
  }
}

async function dispatch(message, sender) {
  const handler = message && typeof message.type === "string" ? BY_TYPE.get(message.type)
    : undefined;
  if (!handler) {
    return { error: "unknown message" };
  }
  const allowed = handler.from === "content"
    ? isContentSender(sender, (await readSettings()).server)
    : isExtensionSender(sender);
  if (!allowed) {
    return { error: "refused" };
  }
  return handler.handle(message, sender);
}

chrome.runtime.onMessage.addListener((message, sender, sendResponse) => {
  dispatch(message, sender).then(sendResponse, (error) => {
    sendResponse({ error: error && error.message ? error.message : String(error) });
  });
  return true;
});

chrome.alarms.onAlarm.addListener((alarm) => {
  if (alarm.name === ALARM) {
    pollWatchedScans();
  }
});

chrome.runtime.onInstalled.addListener(lockStorage);
chrome.runtime.onStartup.addListener(lockStorage);
lockStorage();

/*
 * Check by hand: chrome://extensions → accessrecon → "service worker" (inspect), then
 * open http://127.0.0.1:PORT/app/!x7Kp2/homepage of a sandbox portal and watch the
 * messages arrive; chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html
 */
