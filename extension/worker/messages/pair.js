/**
 * `pair` (options page → worker): turn a one-time pairing code into a token.
 *
 * POST /api/v1/pairing/exchange `{code, label}` is the one call made without a token.
 * The token it answers is stored in chrome.storage.local (trusted contexts only) and
 * never leaves the worker: the options page is told only who it belongs to. A wrong,
 * expired or used code gets the server's one generic refusal, and a pairing that fails
 * leaves the current one (if any) as it was.
 *
 * Message: `{type: "pair", code, label}`. Answer: `{ok: true, user}` or
 * `{ok: false, reason}`.
 */

import { ApiError, request } from "../api.js";
import { readSettings, saveToken } from "../settings.js";

export default {
  type: "pair",
  from: "extension",
  async handle(message) {
    const code = typeof message.code === "string" ? message.code.trim() : "";
    if (!code || code.length > 32) {
      return { ok: false, reason: "enter the code `accessrecon pair` showed (e.g. ABCD-EFGH)" };
    }
    const label = typeof message.label === "string" ? message.label.slice(0, 200) : "";
    const settings = await readSettings();
    try {
      const answer = await request("/pairing/exchange", {
        method: "POST",
        auth: false,
        settings,
        body: { code, label: label || "accessrecon browser extension" },
      });
      const user = { name: answer.user.name, role: answer.user.role, scope: answer.user.scope,
        tokenId: answer.token_id };
      await saveToken(answer.token, user);
      return { ok: true, user: { name: user.name, role: user.role, scope: user.scope } };
    } catch (error) {
      const reason = error instanceof ApiError ? error.detail : String(error);
      return { ok: false, reason };
    }
  },
};

/*
 * Check by hand: `accessrecon pair` prints a code; type it into
 * chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html
 */
