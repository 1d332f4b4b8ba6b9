/**
 * `rescan` (popup → worker): queue a re-scan of the org in a tab.
 *
 * POST /api/v1/scan-requests names the org (portal and org id, read from the tab's
 * address); the server queues it for the agent's worker, or returns the request
 * already queued for that org. The request is watched (worker/scan-watch.js) so the
 * tab is refreshed when it ends even if the popup has closed by then.
 *
 * Message: `{type: "rescan", tabId}`. Answer: `{request: {id, status, done, failed,
 * total}}` or `{error}`.
 */

import { ApiError, request, Unpaired } from "../api.js";
import { watchScan } from "../scan-watch.js";
import { orgOfTab } from "../tabs.js";

export function requestView(answer) {
  return {
    id: answer.id,
    status: answer.status,
    done: answer.done,
    failed: answer.failed,
    total: answer.total,
    detail: answer.detail || "",
    startedAt: answer.started_at,
    finishedAt: answer.finished_at,
  };
}

export default {
  type: "rescan",
  from: "extension",
  async handle(message) {
    if (!Number.isInteger(message.tabId)) {
      return { error: "no tab named" };
    }
    const org = await orgOfTab(message.tabId);
    if (!org) {
      return { error: "this tab is not showing an org" };
    }
    try {
      const answer = await request("/scan-requests", {
        method: "POST",
        body: { portal: org.portal, portal_org_id: org.orgId },
      });
      await watchScan(answer.id, message.tabId, org);
      return { request: requestView(answer) };
    } catch (error) {
      if (error instanceof Unpaired) {
        return { error: "not paired: open the options page and pair first" };
      }
      if (error instanceof ApiError && error.status === 404) {
        return { error: "accessrecon has never listed this org, or it is outside your clients" };
      }
      return { error: error.message || String(error) };
    }
  },
};

/*
 * Check by hand: popup on http://127.0.0.1:PORT/app/!x7Kp2/homepage, "Re-scan now",
 * then `accessrecon worker` runs it.
 */
