/**
 * `unpair` (options page → worker): stop using this token, and revoke it.
 *
 * The token is revoked on the server first (DELETE /api/v1/tokens/{id}, best effort:
 * an unreachable server must not keep a person from unpairing), then forgotten.
 *
 * Message: `{type: "unpair"}`. Answer: `{ok: true, revoked}`.
 */

import { request } from "../api.js";
import { forgetToken, readSettings } from "../settings.js";

export default {
  type: "unpair",
  from: "extension",
  async handle() {
    const settings = await readSettings();
    let revoked = false;
    const tokenId = settings.user && settings.user.tokenId;
    if (settings.token && Number.isInteger(tokenId)) {
      try {
        await request(`/tokens/${tokenId}`, { method: "DELETE", settings });
        revoked = true;
      } catch {
        revoked = false;
      }
    }
    await forgetToken();
    return { ok: true, revoked };
  },
};

/*
 * Check by hand: "Unpair" on chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html,
 * then an org page shows the "pair" badge.
 */
