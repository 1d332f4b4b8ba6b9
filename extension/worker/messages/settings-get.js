/**
 * `settings-get` (popup or options page → worker): the settings a person can see.
 *
 * Whether the extension is paired and as whom, never the token itself.
 *
 * Message: `{type: "settings-get"}`. Answer: `{server, paired, user, passiveCapture,
 * extensionId}`.
 */

import { readSettings } from "../settings.js";

export async function visibleSettings() {
  const settings = await readSettings();
  return {
    server: settings.server,
    paired: Boolean(settings.token),
    user: settings.token && settings.user
      ? { name: settings.user.name, role: settings.user.role, scope: settings.user.scope }
      : null,
    passiveCapture: settings.passiveCapture,
    extensionId: chrome.runtime.id,
  };
}

export default {
  type: "settings-get",
  from: "extension",
  handle: () => visibleSettings(),
};

/*
 * Check by hand: chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html
 */
