/**
 * `save-fixture` (popup → worker): save the tab's users page for support.
 *
 * When a portal changes its users page, the recipe that reads it needs fixing, and
 * whoever fixes it needs the page without the practice's client data. The worker
 * asks the server which recipe is in use for the portal (`GET /api/v1/recipes/{portal}`:
 * paths, keys, headers or selectors, the texts it reads) and hands it, with the org id
 * read from the tab's address, to the tab's content script
 * (content/features/support-fixture.js). The content script fetches what the recipe
 * reads with the page's own session and redacts it in the page: names and e-mails
 * become placeholders, other free text is replaced, no cookies or tokens. The worker
 * checks the answer's shape and size and posts it as a fixture
 * (`POST /api/v1/fixtures`), which `accessrecon portal fixtures replay` parses offline.
 *
 * Message: `{type: "save-fixture", tabId}`. Answer: `{fixture: {id, kind, pages,
 * sizeBytes, recipe, recipeRead}}` or `{error}`.
 */

import { orgKey } from "../../lib/orgs.js";
import { ApiError, request, Unpaired } from "../api.js";
import { readSettings } from "../settings.js";
import { orgOfTab } from "../tabs.js";

const MAX_BYTES = 2 * 1024 * 1024;
const MAX_PAGES = 2000;

function problem(error) {
  if (error instanceof Unpaired) {
    return "not paired: open the options page and pair first";
  }
  if (error instanceof ApiError) {
    return error.detail;
  }
  return error && error.message ? error.message : String(error);
}

/** The content script's answer as the server takes it, or a reason it cannot go. */
function checked(answer) {
  if (!answer || typeof answer !== "object") {
    return { reason: "the page did not answer: reload it and try again" };
  }
  if (typeof answer.error === "string") {
    return { reason: answer.error };
  }
  if (!["json", "html"].includes(answer.kind) || !Array.isArray(answer.pages)
      || !answer.pages.length || answer.pages.length > MAX_PAGES) {
    return { reason: "the page's answer is not a list of captured pages" };
  }
  const content = { format: 1, pages: answer.pages };
  const size = new TextEncoder().encode(JSON.stringify(content)).length;
  if (size > MAX_BYTES) {
    return { reason: `the list is ${(size / 1024 / 1024).toFixed(1)} MB; a page saved for `
      + "support may be 2 MB at most" };
  }
  return { kind: answer.kind, recipeRead: answer.recipeRead === true, content };
}

async function gatherIn(tabId, recipe, org) {
  try {
    return await chrome.tabs.sendMessage(tabId,
      { type: "gather-fixture", recipe, orgId: org.orgId }, { frameId: 0 });
  } catch {
    return { error: "accessrecon is not running in this page yet: reload it and try again" };
  }
}

export default {
  type: "save-fixture",
  from: "extension",
  async handle(message) {
    if (!Number.isInteger(message.tabId)) {
      return { error: "no tab named" };
    }
    const org = await orgOfTab(message.tabId);
    if (!org || !org.usersPage) {
      return { error: "open the org's users page first: that is the page saved" };
    }
    const settings = await readSettings();
    if (!settings.token) {
      return { error: "not paired: open the options page and pair first" };
    }
    let recipe;
    try {
      recipe = await request(`/recipes/${encodeURIComponent(org.portal)}`, { settings });
    } catch (error) {
      return { error: problem(error) };
    }
    const capture = checked(await gatherIn(message.tabId, recipe, org));
    if (capture.reason) {
      return { error: capture.reason };
    }
    const tab = await chrome.tabs.get(message.tabId).catch(() => null);
    const now = await orgOfTab(message.tabId);
    if (!tab || !now || orgKey(now) !== orgKey(org)) {
      return { error: "the tab moved to another page while it was read: nothing was saved" };
    }
    try {
      const saved = await request("/fixtures", {
        method: "POST",
        settings,
        body: {
          portal: org.portal,
          portal_org_id: org.orgId,
          recipe: recipe.label,
          kind: capture.kind,
          page_path: new URL(tab.url).pathname,
          recipe_read: capture.recipeRead,
          content: capture.content,
        },
      });
      return {
        fixture: {
          id: saved.id,
          kind: saved.kind,
          pages: saved.pages,
          sizeBytes: saved.size_bytes,
          recipe: saved.recipe,
          recipeRead: saved.recipe_read,
        },
      };
    } catch (error) {
      return { error: problem(error) };
    }
  },
};

/*
 * Check by hand: popup on http://127.0.0.1:PORT/app/!x7Kp2/settings/users, press
 * "Save this page for support", then `accessrecon portal fixtures list`.
 */
