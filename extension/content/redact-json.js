/**
 * The users JSON of a page saved for support, redacted (content/redact.js's rules).
 *
 * When the recipe reads the answers (the list at its `users.rows`, the count at its
 * `users.total`, each user's keys), only that is kept: the list, the count, the page
 * number, and of each user the keys the recipe names, each value by its field (the
 * e-mail and name as placeholders sharing the user's number, a firm as `Firm N`, the
 * role, status, kind and permissions as they are, known people scrubbed out of them).
 * When it does not (a portal renamed its keys), every key is kept and every value
 * redacted: strings under keys that say "name" become `Person N` (the number of the
 * e-mail beside them), under keys that say "firm" or "company" `Firm N`, under keys
 * that sound like secrets nothing; any other string by the text rules.
 */

(() => {
  "use strict";

  if (globalThis.accessreconRedactJson) {
    return;
  }

  const rd = globalThis.accessreconRedact;

  function nameOf(row, keys) {
    return [].concat(keys).map((k) => rd.lookup(row, k)).filter((v) => typeof v === "string")
      .join(" ");
  }

  /** Whether every answer holds what the recipe reads: the list, the count, each key. */
  function jsonReadable(bodies, spec) {
    return bodies.every((body) => {
      const rows = rd.lookup(body, spec.rows);
      return Array.isArray(rows) && Number.isInteger(rd.lookup(body, spec.total))
        && rows.every((row) => row && typeof row === "object" && !Array.isArray(row)
          && Object.entries(spec.fields).every(([field, keys]) => (spec.optional || [])
            .includes(field) || [].concat(keys).every((k) => rd.lookup(row, k) !== undefined)));
    });
  }

  function readRow(row, spec, r) {
    const email = rd.lookup(row, spec.fields.email);
    const n = r.person(typeof email === "string" ? email : "", nameOf(row, spec.fields.name));
    const out = {};
    for (const [field, keys] of Object.entries(spec.fields)) {
      let named = false;
      for (const key of [].concat(keys)) {
        const value = rd.lookup(row, key);
        if (value === undefined) {
          continue;
        }
        if (field === "name" && typeof value === "string" && value.trim()) {
          rd.put(out, key, named ? "" : r.name(value, n));
          named = true;
        } else {
          rd.put(out, key, r.field(field, value, n));
        }
      }
    }
    return out;
  }

  function readBody(body, spec, r) {
    const out = {};
    rd.put(out, spec.rows, rd.lookup(body, spec.rows).map((row) => readRow(row, spec, r)));
    rd.put(out, spec.total, rd.lookup(body, spec.total));
    const page = spec.page ? rd.lookup(body, spec.page) : undefined;
    if (page !== undefined) {
      rd.put(out, spec.page, typeof page === "string" ? r.text(page) : page);
    }
    return out;
  }

  function registerAny(value, r) {
    if (Array.isArray(value)) {
      value.forEach((v) => registerAny(v, r));
    } else if (value && typeof value === "object") {
      const entries = Object.entries(value);
      const emails = entries.filter(([, v]) => typeof v === "string" && rd.fullEmail(v));
      const names = entries.filter(([k, v]) => typeof v === "string" && rd.NAME_KEY.test(k)
        && !rd.FIRM_KEY.test(k) && !rd.SECRET_KEY.test(k) && v.trim() && !v.includes("@"));
      if (emails.length === 1) {
        r.person(emails[0][1], names.map(([, v]) => v.trim()).join(" "));
      } else {
        emails.forEach(([, v]) => r.person(v, ""));
      }
      entries.forEach(([, v]) => registerAny(v, r));
    } else if (typeof value === "string") {
      for (const found of value.matchAll(rd.EMAIL_RUN)) {
        r.person(found[0], "");
      }
    }
  }

  function redactAny(value, r) {
    if (Array.isArray(value)) {
      return value.map((v) => redactAny(v, r));
    }
    if (!value || typeof value !== "object") {
      return typeof value === "string" ? r.text(value) : value;
    }
    const entries = Object.entries(value);
    const owner = entries.find(([, v]) => typeof v === "string" && rd.fullEmail(v));
    const n = owner ? r.person(owner[1], "") : undefined;
    const out = {};
    let named = false;
    for (const [key, v] of entries) {
      const safeKey = key.includes("@") ? r.scrub(key) : key;
      if (rd.SECRET_KEY.test(key)) {
        out[safeKey] = null;
      } else if (typeof v === "string" && rd.NAME_KEY.test(key) && !rd.FIRM_KEY.test(key)
          && !v.includes("@")) {
        out[safeKey] = !v.trim() || named ? "" : r.name(v, n);
        named = named || Boolean(v.trim());
      } else if (typeof v === "string" && rd.FIRM_KEY.test(key)) {
        out[safeKey] = r.firm(v);
      } else {
        out[safeKey] = redactAny(v, r);
      }
    }
    return out;
  }

  /**
   * The users JSON answers, redacted: only what the recipe reads when it reads them
   * (`read: true`), else every key kept and every value redacted by the rules above.
   */
  function redactJson(bodies, spec, r) {
    if (jsonReadable(bodies, spec)) {
      for (const body of bodies) {
        for (const row of rd.lookup(body, spec.rows)) {
          const email = rd.lookup(row, spec.fields.email);
          r.person(typeof email === "string" ? email : "", nameOf(row, spec.fields.name));
        }
      }
      return { read: true, bodies: bodies.map((body) => readBody(body, spec, r)) };
    }
    bodies.forEach((body) => registerAny(body, r));
    return { read: false, bodies: bodies.map((body) => redactAny(body, r)) };
  }

  globalThis.accessreconRedactJson = Object.freeze({ redactJson });
})();

/*
 * Check by hand (sandbox, signed in, extension paired): save a Xero users page for
 * support, then `accessrecon portal fixtures show N` shows the JSON with placeholders.
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users
 */
