/**
 * Redaction of a users page saved for support, done in the page before anything
 * leaves it: the rules, and the placeholders of one capture (`Redactor`).
 * content/features/support-fixture.js gathers the page; content/redact-json.js and
 * content/markup.js apply these rules to its JSON and its markup.
 *
 * A saved page must let whoever fixes a recipe run the parsing step on it, and must
 * not hand them the practice's client data. So:
 *
 * * every e-mail becomes `person{N}@example.invalid` and every name `Person {N}`, the
 *   same N for the same person wherever they appear (a row's e-mail and name share
 *   it); a firm's name becomes `Firm {N}`;
 * * what parsing needs is kept as it is: the recipe's own words (headers, status
 *   values, range and empty texts), numbers, ISO dates, enum-like codes (`STANDARD`),
 *   ids (`u0042`, UUIDs), and the values of the fields the recipe reads as vocabulary
 *   (role, status, kind, permissions), with any known name or e-mail in them replaced;
 * * any other text becomes `Text {N}` (the same text, the same N), and values under
 *   keys that sound like secrets (token, csrf, session, cookie…) are dropped;
 * * markup keeps structure only (content/markup.js): a few attributes, no scripts,
 *   no forms, no images.
 *
 * For a layout the recipe does not read (a portal's new markup or JSON keys), the
 * same rules apply to everything captured, keys of JSON kept, so a fixed recipe can
 * be tried on it.
 */

(() => {
  "use strict";

  if (globalThis.accessreconRedact) {
    return;
  }

  const EMAIL_RUN = /[^\s@"'<>(),;:\\]+@[^\s@"'<>(),;:\\]+\.[^\s@"'<>(),;:\\]+/gu;
  const PLACEHOLDER = /^(?:Person \d+|person\d+@example\.invalid|Firm \d+|Text \d+)$/;
  const PLACEHOLDER_PARTS = /(Person \d+|person\d+@example\.invalid|Firm \d+|Text \d+)/;
  const NUMBER = /^[+-]?\d+(?:[.,]\d+)*$/;
  const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
  const CODE = /^[A-Z][A-Z0-9_]*$/;
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
  const SHORT_ID = /^(?=\D*\d)[A-Za-z0-9_-]{1,24}$/;
  const PUNCTUATION = /^[\p{P}\p{S}\s]+$/u;
  const SECRET_KEY = /token|csrf|xsrf|secret|passw|cookie|session|auth/i;
  const FIRM_KEY = /firm|company|business|practice/i;
  const NAME_KEY = /name/i;
  /** Fields whose values are the portal's vocabulary: kept, known people scrubbed out. */
  const VOCABULARY = new Set(["role", "status", "kind", "extra_permissions", "added_by_owner"]);

  function squash(text) {
    return String(text).replace(/\s+/g, " ").trim();
  }

  function escapeRegExp(text) {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  }

  function fullEmail(text) {
    const t = String(text).trim();
    const found = t.match(EMAIL_RUN);
    return Boolean(found) && found.length === 1 && found[0] === t;
  }

  /** A recipe's range template as a pattern (as agent.scrapers.recipe.range_pattern). */
  function rangePattern(template) {
    const body = template.split(/(\{first\}|\{last\}|\{total\})/).map((part) => (
      ["{first}", "{last}", "{total}"].includes(part)
        ? `(?<${part.slice(1, -1)}>\\d+)` : escapeRegExp(part))).join("");
    return new RegExp(`(?<![\\d-])${body}(?!\\d)`, "g");
  }

  /** The words a recipe reads, folded: kept wherever they appear. */
  function recipeWords(recipe) {
    const words = new Set();
    const add = (word) => {
      if (typeof word === "string" && word.trim()) {
        words.add(squash(word).toLocaleLowerCase());
      }
    };
    Object.keys(recipe.values.status || {}).forEach(add);
    Object.keys(recipe.values.added_by_owner || {}).forEach(add);
    add(recipe.texts.no_permission);
    if (recipe.users.read === "pages") {
      for (const part of recipe.users.lists) {
        (part.table || []).forEach(add);
        if (part.table) {
          Object.values(part.columns).forEach(add);
        }
        Object.values(part.constants || {}).forEach(add);
        [part.empty_text, part.id_column, part.name].forEach(add);
      }
    }
    return words;
  }

  /** The value at a dotted key (`data.users`), or undefined. */
  function lookup(body, dotted) {
    let value = body;
    for (const part of dotted.split(".")) {
      if (!value || typeof value !== "object" || Array.isArray(value)
          || !Object.prototype.hasOwnProperty.call(value, part)) {
        return undefined;
      }
      value = value[part];
    }
    return value;
  }

  function put(target, dotted, value) {
    const parts = dotted.split(".");
    let node = target;
    for (const part of parts.slice(0, -1)) {
      if (!node[part] || typeof node[part] !== "object") {
        node[part] = {};
      }
      node = node[part];
    }
    node[parts[parts.length - 1]] = value;
  }

  /** One capture's placeholders: the same person, firm or text gets the same number. */
  class Redactor {
    constructor(recipe) {
      this.words = recipeWords(recipe);
      this.ranges = recipe.users.read === "pages"
        ? recipe.users.lists.map((part) => rangePattern(part.range)) : [];
      this.people = new Map();
      this.names = new Map();
      this.firms = new Map();
      this.texts = new Map();
      this.count = 0;
      this.pattern = undefined;
    }

    /** Register one user (a row, an item, an object): e-mail and name share a number. */
    person(email, name) {
      const key = typeof email === "string" ? email.trim().toLocaleLowerCase() : "";
      const shown = typeof name === "string" ? squash(name) : "";
      let n;
      if (key && !PLACEHOLDER.test(key)) {
        n = this.people.get(key);
        if (n === undefined) {
          this.count += 1;
          n = this.count;
          this.people.set(key, n);
        }
      } else if (shown) {
        n = this.names.get(shown.toLocaleLowerCase());
      }
      if (n === undefined) {
        this.count += 1;
        n = this.count;
      }
      const folded = shown.toLocaleLowerCase();
      if (shown && !PLACEHOLDER.test(shown) && !this.names.has(folded)) {
        this.names.set(folded, n);
      }
      this.pattern = undefined;
      return n;
    }

    email(value) {
      if (typeof value !== "string" || !value.trim()) {
        return value;
      }
      if (PLACEHOLDER.test(value.trim())) {
        return value.trim();
      }
      return `person${this.person(value, "")}@example.invalid`;
    }

    name(value, n) {
      if (typeof value !== "string" || !value.trim()) {
        return typeof value === "string" ? "" : value;
      }
      return `Person ${n === undefined ? this.person("", value) : n}`;
    }

    firm(value) {
      if (typeof value !== "string" || !value.trim()) {
        return value;
      }
      const key = squash(value).toLocaleLowerCase();
      if (!this.firms.has(key)) {
        this.firms.set(key, this.firms.size + 1);
      }
      return `Firm ${this.firms.get(key)}`;
    }

    free(value) {
      const key = squash(value);
      if (!this.texts.has(key)) {
        this.texts.set(key, this.texts.size + 1);
      }
      return `Text ${this.texts.get(key)}`;
    }

    /** Whether a text is one parsing reads as it is. */
    kept(text) {
      const t = squash(text);
      if (!t || PLACEHOLDER.test(t) || this.words.has(t.toLocaleLowerCase())) {
        return true;
      }
      if ([NUMBER, ISO_TIME, CODE, UUID, SHORT_ID].some((p) => p.test(t))) {
        return true;
      }
      return this.ranges.some((p) => [...t.matchAll(p)].some((m) => m[0] === t));
    }

    knownPattern() {
      if (this.pattern === undefined) {
        const known = [...this.people.keys(), ...[...this.names.keys()].filter((n) => n.length >= 3)]
          .sort((a, b) => b.length - a.length).map(escapeRegExp);
        this.pattern = known.length ? new RegExp(known.join("|"), "giu") : null;
      }
      return this.pattern;
    }

    /** Known e-mails and names inside a text, and any other e-mail, replaced. */
    scrub(text) {
      if (typeof text !== "string" || !text) {
        return text;
      }
      const pattern = this.knownPattern();
      let out = text;
      if (pattern) {
        out = out.replace(pattern, (found) => {
          const folded = found.toLocaleLowerCase();
          return this.people.has(folded) ? `person${this.people.get(folded)}@example.invalid`
            : `Person ${this.names.get(folded)}`;
        });
      }
      return out.replace(EMAIL_RUN, (run) => (PLACEHOLDER.test(run) ? run : this.email(run)));
    }

    /** Any other text: kept if parsing reads it as it is, else replaced. */
    text(value) {
      if (typeof value !== "string") {
        return value;
      }
      const t = squash(value);
      if (this.kept(t)) {
        return t;
      }
      const folded = t.toLocaleLowerCase();
      if (this.people.has(folded) || fullEmail(t)) {
        return this.email(t);
      }
      if (this.names.has(folded)) {
        return `Person ${this.names.get(folded)}`;
      }
      if (this.firms.has(folded)) {
        return this.firm(t);
      }
      const scrubbed = this.scrub(t);
      if (scrubbed === t) {
        return this.free(t);
      }
      return scrubbed.split(PLACEHOLDER_PARTS).map((part, i) => {
        const core = part.trim();
        if (i % 2 === 1 || !core || PUNCTUATION.test(core) || this.kept(core)) {
          return part;
        }
        return part.replace(core, this.free(core));
      }).join("");
    }

    /** A value of a field the recipe reads, by what the field is. */
    field(field, value, n) {
      if (Array.isArray(value)) {
        return value.map((v) => this.field(field, v, n));
      }
      if (typeof value !== "string") {
        return value;
      }
      if (field === "email") {
        return this.email(value);
      }
      if (field === "name") {
        return this.name(value, n);
      }
      if (field === "firm") {
        return this.firm(value);
      }
      return VOCABULARY.has(field) ? this.scrub(value) : this.text(value);
    }
  }

  /** Whether a value looks like an id a recipe may read (a UUID, `u0042`, a code). */
  function idLike(value) {
    const t = String(value).trim();
    return [UUID, SHORT_ID, NUMBER, CODE].some((p) => p.test(t));
  }

  globalThis.accessreconRedact = Object.freeze({
    EMAIL_RUN,
    SECRET_KEY,
    Redactor,
    squash,
    lookup,
    rangePattern,
    put,
    fullEmail,
    NAME_KEY,
    FIRM_KEY,
    idLike,
  });
})();

/*
 * Check by hand (sandbox, signed in, extension paired): open a users page, press
 * "Save this page for support" in the popup, then `accessrecon portal fixtures show N`
 * shows placeholders where names and e-mails were.
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers?tab=users
 */
