/**
 * The only code that talks to the accessrecon server.
 *
 * Requests carry the bearer token in the Authorization header (the server refuses
 * tokens in URLs) and JSON bodies with Content-Type: application/json (it refuses
 * anything else on POST). A 401 means the token is gone (revoked, or the server's
 * database was replaced): the token is forgotten, and the extension shows its
 * unpaired state until someone pairs again. Every call has a timeout, so a hung
 * server cannot keep the worker alive or the popup spinning.
 */

import { forgetToken, readSettings } from "./settings.js";

export const API_PREFIX = "/api/v1";
const TIMEOUT_MS = 10000;

export class ApiError extends Error {
  /** `status` 0 means the server did not answer at all. */
  constructor(status, detail) {
    super(detail);
    this.status = status;
    this.detail = detail;
  }
}

export class Unpaired extends ApiError {
  constructor(detail = "not paired with an accessrecon server") {
    super(401, detail);
  }
}

function detailOf(body, status) {
  if (body && typeof body.detail === "string") {
    return body.detail;
  }
  return `the server answered ${status}`;
}

/**
 * `request(path, {method, body, auth})` → the parsed JSON answer.
 * `auth: false` sends no token (only the pairing exchange). Throws ApiError.
 */
export async function request(path, { method = "GET", body, auth = true, settings } = {}) {
  const current = settings || await readSettings();
  const headers = { Accept: "application/json" };
  if (auth) {
    if (!current.token) {
      throw new Unpaired();
    }
    headers.Authorization = `Bearer ${current.token}`;
  }
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
  }
  let response;
  try {
    response = await fetch(`${current.server}${API_PREFIX}${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "omit",
      cache: "no-store",
      redirect: "error",
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    throw new ApiError(0, `the server at ${current.server} did not answer (${error.name})`);
  }
  let parsed = null;
  try {
    parsed = await response.json();
  } catch {
    parsed = null;
  }
  if (response.status === 401 && auth) {
    await forgetToken();
    throw new Unpaired(detailOf(parsed, 401));
  }
  if (!response.ok) {
    const error = new ApiError(response.status, detailOf(parsed, response.status));
    error.body = parsed;
    throw error;
  }
  return parsed;
}

/** Path segment for an org id: Xero's "!" stays readable, anything else is escaped. */
export function orgPath(org) {
  return `/orgs/${encodeURIComponent(org.portal)}/${encodeURIComponent(org.orgId)}`;
}

/*
 * Check by hand (server: `accessrecon serve`):
 *   http://127.0.0.1:8765/api/v1/health            (no token needed)
 *   http://127.0.0.1:8765/api/v1/me                (401 without the extension's token)
 */
