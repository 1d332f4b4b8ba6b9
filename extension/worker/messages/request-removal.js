/**
 * `request-removal` (popup → worker): propose removing one access the tab's org shows.
 *
 * POST /api/v1/removals/plans with the finding's id makes a removal plan: a dry run
 * that a practice admin or partner other than the proposer approves, and the agent's
 * worker carries out. Nothing is ever removed by the extension. The finding must be
 * one the tab's org shows (its status is read again here), so the popup can only
 * plan what it was drawn from. Who may propose is the server's decision: a refusal
 * is answered with the server's own sentence.
 *
 * Message: `{type: "request-removal", tabId, findingId}`. Answer: `{plan: {id, status,
 * items: [{state, action, barrier, detail}]}}` or `{error}`.
 */

import { request, Unpaired } from "../api.js";
import { fetchOrgState } from "../org-state.js";
import { orgOfTab } from "../tabs.js";

export default {
  type: "request-removal",
  from: "extension",
  async handle(message) {
    if (!Number.isInteger(message.tabId) || !Number.isInteger(message.findingId)) {
      return { error: "no tab or finding named" };
    }
    const org = await orgOfTab(message.tabId);
    if (!org) {
      return { error: "this tab is not showing an org" };
    }
    const state = await fetchOrgState(org);
    if (state.kind === "unpaired") {
      return { error: "not paired: open the options page and pair first" };
    }
    if (state.kind !== "org") {
      return { error: state.detail || "accessrecon does not know this org" };
    }
    const shown = (state.status.people || []).some((p) => p.finding_id === message.findingId);
    if (!shown) {
      return { error: "that finding is not one of this org's open findings any more" };
    }
    try {
      const answer = await request("/removals/plans", {
        method: "POST",
        body: {
          finding_ids: [message.findingId],
          note: `asked for from the browser extension on ${state.status.name}`,
        },
      });
      return {
        plan: {
          id: answer.plan.id,
          status: answer.plan.status,
          items: answer.items.map((i) => ({ state: i.state, action: i.action,
            barrier: i.barrier, detail: i.detail })),
        },
      };
    } catch (error) {
      if (error instanceof Unpaired) {
        return { error: "not paired: open the options page and pair first" };
      }
      return { error: error.message || String(error) };
    }
  },
};

/*
 * Check by hand: popup on http://127.0.0.1:PORT/app/!x7Kp2/homepage, "Request removal"
 * on a finding, then the plan on http://127.0.0.1:8765/dashboard/removals
 */
