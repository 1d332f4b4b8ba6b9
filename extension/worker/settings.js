/**
 * The extension's settings and its token, read from chrome.storage on every event.
 *
 * Chrome stops an idle MV3 service worker whenever it likes, so nothing is kept in
 * module variables: each handler reads what it needs here. The token lives in
 * chrome.storage.local, whose access level the worker sets to TRUSTED_CONTEXTS at
 * start-up (service_worker.js), so content scripts cannot read it even if they tried;
 * only the worker ever puts it in a request. Short-lived per-session state (banner
 * collapsed per org, the QuickBooks tabs of a capture in progress, scans being
 * watched) lives in chrome.storage.session, trusted contexts only by default.
 *
 * The server must be on this computer: the manifest's host permissions name only
 * http://127.0.0.1 and http://localhost, and the server refuses other Host headers.
 */

export const DEFAULT_SERVER = "http://127.0.0.1:8765";

const LOCAL_KEYS = { server: "server", token: "token", user: "user", capture: "passiveCapture" };
const ALLOWED_HOSTS = new Set(["127.0.0.1", "localhost"]);

/** `{server, token, user, passiveCapture}`; passive capture is on unless turned off. */
export async function readSettings() {
  const stored = await chrome.storage.local.get(Object.values(LOCAL_KEYS));
  return {
    server: typeof stored.server === "string" && stored.server ? stored.server : DEFAULT_SERVER,
    token: typeof stored.token === "string" ? stored.token : "",
    user: stored.user && typeof stored.user === "object" ? stored.user : null,
    passiveCapture: stored.passiveCapture !== false,
  };
}

/**
 * A server address as the extension will use it (`http://host:port`, no path), or an
 * Error whose message a person can act on.
 */
export function normaliseServer(value) {
  let address;
  try {
    address = new URL(String(value || "").trim());
  } catch {
    throw new Error("enter the server's address, e.g. http://127.0.0.1:8765");
  }
  if (address.protocol !== "http:" || !ALLOWED_HOSTS.has(address.hostname)) {
    throw new Error("the server must run on this computer: http://127.0.0.1:PORT or "
      + "http://localhost:PORT");
  }
  if (address.username || address.password || address.search || address.hash
      || (address.pathname && address.pathname !== "/")) {
    throw new Error("enter only the address and port, e.g. http://127.0.0.1:8765");
  }
  return address.origin;
}

/** A new server drops the token: it was issued by, and only means something to, the old one. */
export async function saveServer(value) {
  const server = normaliseServer(value);
  const { server: before } = await readSettings();
  if (server !== before) {
    await chrome.storage.local.remove([LOCAL_KEYS.token, LOCAL_KEYS.user]);
  }
  await chrome.storage.local.set({ [LOCAL_KEYS.server]: server });
  return server;
}

export async function saveToken(token, user) {
  await chrome.storage.local.set({ [LOCAL_KEYS.token]: token, [LOCAL_KEYS.user]: user });
}

export async function forgetToken() {
  await chrome.storage.local.remove([LOCAL_KEYS.token, LOCAL_KEYS.user]);
}

export async function setPassiveCapture(on) {
  await chrome.storage.local.set({ [LOCAL_KEYS.capture]: Boolean(on) });
}

/** Session-scoped values (cleared when the browser closes). */
export async function sessionGet(key, fallback = null) {
  const stored = await chrome.storage.session.get(key);
  return key in stored ? stored[key] : fallback;
}

export async function sessionSet(key, value) {
  await chrome.storage.session.set({ [key]: value });
}

export async function sessionRemove(key) {
  await chrome.storage.session.remove(key);
}

/** Every session entry whose key starts with `prefix`, as `[key, value]` pairs. */
export async function sessionEntries(prefix) {
  const all = await chrome.storage.session.get(null);
  return Object.entries(all).filter(([key]) => key.startsWith(prefix));
}

/*
 * Check by hand: chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html
 * (save a server, pair, reload: the settings survive; the token is never shown).
 */
