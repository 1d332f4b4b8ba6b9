/**
 * `settings-set` (options page → worker): change the server address or passive capture.
 *
 * A new server address must be on this computer (worker/settings.js says why) and
 * drops the token, which only the old server knows.
 *
 * Message: `{type: "settings-set", server?, passiveCapture?}`. Answer: the visible
 * settings (as `settings-get`), or `{error}` for an address that cannot be used.
 */

import { saveServer, setPassiveCapture } from "../settings.js";
import { visibleSettings } from "./settings-get.js";

export default {
  type: "settings-set",
  from: "extension",
  async handle(message) {
    try {
      if (message.server !== undefined) {
        await saveServer(message.server);
      }
    } catch (error) {
      return { error: error.message };
    }
    if (typeof message.passiveCapture === "boolean") {
      await setPassiveCapture(message.passiveCapture);
    }
    return visibleSettings();
  },
};

/*
 * Check by hand: chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html
 * (try http://example.com: refused with a sentence).
 */
