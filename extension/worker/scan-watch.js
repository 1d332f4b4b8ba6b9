/**
 * Re-scans being waited for, so the tab is brought up to date even if the popup closed.
 *
 * The popup polls a re-scan's progress while it is open (fast, every few hundred
 * milliseconds) and refreshes the tab when it ends. A popup closes as soon as the
 * person clicks elsewhere, so each requested scan is also written down
 * (chrome.storage.session) and an alarm looks at the unfinished ones every 30 seconds
 * (the shortest alarm Chrome allows) until none is left. The worker keeps nothing in
 * memory: an alarm wakes a stopped worker, which reads the list again.
 */

import { request } from "./api.js";
import { sessionEntries, sessionGet, sessionRemove, sessionSet } from "./settings.js";
import { refreshTab } from "./tabs.js";

export const ALARM = "scan-watch";
const PREFIX = "scanWatch:";
const GIVE_UP_MS = 60 * 60 * 1000;
export const FINISHED = new Set(["done", "failed"]);

export async function watchScan(requestId, tabId, org) {
  await sessionSet(`${PREFIX}${requestId}`, { tabId, org, at: Date.now() });
  await chrome.alarms.create(ALARM, { periodInMinutes: 0.5 });
}

/** A finished request: bring its tab up to date once, and stop watching it. */
export async function scanFinished(requestId) {
  const watch = await sessionGet(`${PREFIX}${requestId}`);
  if (!watch) {
    return null;
  }
  await sessionRemove(`${PREFIX}${requestId}`);
  return refreshTab(watch.tabId, watch.org);
}

export async function pollWatchedScans() {
  const watches = await sessionEntries(PREFIX);
  for (const [key, watch] of watches) {
    const requestId = Number(key.slice(PREFIX.length));
    if (Date.now() - watch.at > GIVE_UP_MS) {
      await sessionRemove(key);
      continue;
    }
    try {
      const progress = await request(`/scan-requests/${requestId}`);
      if (FINISHED.has(progress.status)) {
        await scanFinished(requestId);
      }
    } catch {
      // the server is away or the token went: try again at the next alarm, or give up
      // after an hour
    }
  }
  if (!(await sessionEntries(PREFIX)).length) {
    await chrome.alarms.clear(ALARM);
  }
}

/*
 * Check by hand: press "Re-scan now" in the popup, close the popup at once; within 30 s
 * of the scan ending the badge of http://127.0.0.1:PORT/app/!x7Kp2/homepage changes.
 */
