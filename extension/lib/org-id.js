/**
 * Each portal's org id: its format and its one stored (canonical) form.
 *
 * The same rules as the agent's `agent/orgid.py`, held to the same table of cases
 * (`tests/cases/org_ids.json`), so an id the extension reads off a page is the id the
 * server stores and the worker's storage keys match the server's. From the portal
 * contract (SPEC.md, "Identifiers"):
 *
 *   xero  "!" + 5 letters or digits   kept as written: case matters
 *   qbo   10 to 19 digits             kept as written (no zero is dropped)
 *   myob  a UUID                      lower case (a UUID's case means nothing)
 *
 * Surrounding white space (the characters Python's `str.strip` drops, listed below,
 * so both sides agree) and, for MYOB, braces around the UUID are dropped; nothing
 * else is forgiven.
 */

/** Each id as a portal writes it in its addresses and JSON, to embed in a pattern. */
export const ID_SHAPES = Object.freeze({
  xero: "![A-Za-z0-9]{5}",
  qbo: "[0-9]{10,19}",
  myob: "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}",
});

const LABELS = Object.freeze({ xero: "Xero", qbo: "QuickBooks", myob: "MYOB" });

const HELP = Object.freeze({
  xero: "a Xero short code is ! and five letters or digits, e.g. !x7Kp2",
  qbo: "a QuickBooks realm id is 10 to 19 digits, e.g. 9130352157364426",
  myob: "a MYOB business id is a UUID, e.g. 3f2b8c1e-5d4a-4c6b-9e2f-7a1b0c9d8e6f",
});

/* Python's white space, not String.prototype.trim's: that one also drops U+FEFF and
 * keeps U+001C-U+001F and U+0085, and the two sides must agree on every id. */
const SPACE = "[\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029"
  + "\\u202f\\u205f\\u3000]";
const EDGES = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");
const SHAPES = Object.freeze(Object.fromEntries(
  Object.entries(ID_SHAPES).map(([portal, shape]) => [portal, new RegExp(`^(?:${shape})$`)])));
const BRACED = /^\{([\s\S]*)\}$/;
const XERO_CODE = /^[A-Za-z0-9]{5}$/;

/** Why a text is not an org id; the message names the portal and the format. */
export class OrgIdError extends Error {
  constructor(message) {
    super(message);
    this.name = "OrgIdError";
  }
}

function quoted(text) {
  return `'${text.length <= 60 ? text : `${text.slice(0, 57)}...`}'`;
}

/**
 * The stored form of one of `portal`'s org ids; throws `OrgIdError` naming the
 * portal, the value and the format it should have.
 */
export function parseOrgId(portal, text) {
  if (!Object.hasOwn(SHAPES, portal)) {
    throw new OrgIdError(`${quoted(String(portal))} is not a portal; use xero, qbo or myob`);
  }
  if (typeof text !== "string") {
    const kind = text === null ? "null" : typeof text;
    throw new OrgIdError(`a ${LABELS[portal]} org id is text, not ${kind}; ${HELP[portal]}`);
  }
  const stripped = text.replace(EDGES, "");
  const braced = portal === "myob" ? BRACED.exec(stripped) : null;
  if (braced) {
    if (SHAPES.myob.test(braced[1])) {
      return braced[1].toLowerCase();
    }
  } else if (SHAPES[portal].test(stripped)) {
    return portal === "myob" ? stripped.toLowerCase() : stripped;
  }
  const hint = portal === "xero" && XERO_CODE.test(stripped)
    ? ` (did you mean !${stripped}?)` : "";
  throw new OrgIdError(
    `${quoted(stripped)} is not a ${LABELS[portal]} org id${hint}; ${HELP[portal]}`);
}

/** Whether `text` is one of `portal`'s ids exactly as stored (nothing to drop or fold). */
export function isOrgId(portal, text) {
  try {
    return parseOrgId(portal, text) === text;
  } catch (error) {
    if (error instanceof OrgIdError) {
      return false;
    }
    throw error;
  }
}

/*
 * Check by hand, in the console of any extension page
 * (chrome-extension://<id>/options.html):
 *   const {parseOrgId} = await import("/lib/org-id.js");
 *   parseOrgId("myob", "{3F2B8C1E-5D4A-4C6B-9E2F-7A1B0C9D8E6F}")  -> lower-case UUID
 *   parseOrgId("xero", "x7Kp2")  -> throws: did you mean !x7Kp2?
 */
