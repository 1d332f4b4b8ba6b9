/**
 * The state of one org, as the badge, banner and popup need it: one server call.
 *
 * GET /api/v1/orgs/{portal}/{org_id}/status answers counts, flags and people. A 404
 * means the agent never listed the org or it is outside the user's client scope (the
 * server does not say which); both show as "unknown". A missing or refused token is
 * "unpaired"; no answer is "offline". Nothing is cached: the worker may be stopped
 * between any two events, and the server answers in milliseconds.
 */

import { ApiError, orgPath, request, Unpaired } from "./api.js";
import { readSettings } from "./settings.js";

/** `{kind: "org"|"unknown"|"unpaired"|"offline", status?, detail?}` */
export async function fetchOrgState(org, settings = null) {
  const current = settings || await readSettings();
  if (!current.token) {
    return { kind: "unpaired" };
  }
  try {
    const status = await request(`${orgPath(org)}/status`, { settings: current });
    return { kind: "org", status };
  } catch (error) {
    return stateFromError(error);
  }
}

export function stateFromError(error) {
  if (error instanceof Unpaired) {
    return { kind: "unpaired" };
  }
  if (error instanceof ApiError && error.status === 404) {
    return { kind: "unknown" };
  }
  return { kind: "offline", detail: error.message || String(error) };
}

/*
 * Check by hand: with a paired extension, open
 *   http://127.0.0.1:PORT/app/!x7Kp2/homepage   (a sandbox org the agent scanned: a count)
 *   http://127.0.0.1:PORT/app/!zzzzz/homepage   (an org it never listed: "?")
 */
