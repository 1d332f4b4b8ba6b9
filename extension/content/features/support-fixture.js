/**
 * Save this page for support: the users list as the agent's reader sees it, redacted.
 *
 * When a portal changes its users page, the person fixing the recipe needs the page,
 * not the practice's client data. The popup's "Save this page for support" asks the
 * worker, which fetches the recipe in use from the server and hands it here (the only
 * message this feature answers, from the worker alone). This script then fetches what
 * the recipe reads, from the page's own origin with the page's own session, exactly
 * as the portal's page does:
 *
 * * JSON-read portals (Xero, MYOB): the users JSON at the recipe's `users.path`,
 *   every page of it when the path is paged, until the answers' items add up to the
 *   total;
 * * page-read portals (QuickBooks): every page of every list the recipe names (the
 *   Users and Accounting firms tabs), and of each page only the list: the table the
 *   recipe finds by its headers (cells of the columns it reads, links of its id
 *   column) or the items it finds by its selectors, and the range and empty texts.
 *
 * Everything is redacted here, before it is handed to the worker
 * (content/redact.js): names and e-mails become placeholders, other free text is
 * replaced, no cookies, tokens or scripts. A layout the recipe does not read is still
 * captured, the list region or the whole JSON, redacted the same way, so a fixed recipe
 * can be tried on it. Nothing is saved unless a person asks, and nothing goes to the
 * server from here: the worker sends it.
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;
  const rd = globalThis.accessreconRedact;
  const mk = globalThis.accessreconMarkup;
  const rj = globalThis.accessreconRedactJson;
  const MAX_BYTES = 2 * 1024 * 1024;
  const TIMEOUT_MS = 20000;

  function pathOf(template, orgId, page) {
    const filled = template.split("{org}").join(mk.quoteOrg(orgId));
    return page === null ? filled : filled.split("{page}").join(String(page));
  }

  /** A page or answer of this portal, with this page's session; null for an optional miss. */
  async function portalGet(path, accept, { optional = false } = {}) {
    const url = new URL(path, location.origin);
    if (url.origin !== location.origin) {
      throw new Error(`${path} is not on this portal`);
    }
    let response;
    try {
      response = await fetch(url.href, {
        credentials: "same-origin",
        headers: { Accept: accept },
        cache: "no-store",
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      throw new Error(`the portal did not answer ${url.pathname} (${error.name})`);
    }
    if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
      throw new Error(`the portal sent ${url.pathname} elsewhere: is this browser signed in?`);
    }
    if (optional && response.status >= 400 && response.status < 500) {
      return null;
    }
    if (response.status === 403) {
      throw new Error("the portal says this login may not view this org's users");
    }
    if (!response.ok) {
      throw new Error(`the portal answered ${response.status} for ${url.pathname}`);
    }
    return response;
  }

  function checkSize(value) {
    if (JSON.stringify(value).length > MAX_BYTES) {
      throw new Error("the list is larger than a page saved for support may be (2 MB)");
    }
  }

  // ------------------------------------------------------------------------------ JSON

  function longestList(value) {
    let best = [];
    const walk = (v) => {
      if (Array.isArray(v)) {
        if (v.length > best.length && v.every((x) => x && typeof x === "object")) {
          best = v;
        }
        v.forEach(walk);
      } else if (v && typeof v === "object") {
        Object.values(v).forEach(walk);
      }
    };
    walk(value);
    return best;
  }

  async function answerOf(path, optional) {
    const response = await portalGet(path, "application/json", { optional });
    if (response === null) {
      return null;
    }
    try {
      return await response.json();
    } catch {
      throw new Error(`the portal's answer to ${path} is not JSON`);
    }
  }

  /**
   * Every page of the users JSON. Read as the recipe reads it (until the items add up
   * to the total); a layout it cannot read, until a page adds no new items.
   */
  async function gatherJson(recipe, orgId, r) {
    const spec = recipe.users;
    const paged = spec.path.includes("{page}");
    const pages = [];
    let read = 0;
    let full = 0;
    for (let page = 1; page <= (paged ? spec.max_pages : 1); page += 1) {
      const path = pathOf(spec.path, orgId, paged ? page : null);
      const body = await answerOf(path, page > 1);
      if (body === null) {
        break;
      }
      const rows = rd.lookup(body, spec.rows);
      const total = rd.lookup(body, spec.total);
      if (Array.isArray(rows) && Number.isInteger(total)) {
        pages.push({ path, body });
        read += rows.length;
        if (!paged || read >= total || !rows.length) {
          break;
        }
      } else {
        const items = longestList(body).length;
        const same = pages.length && JSON.stringify(pages[pages.length - 1].body)
          === JSON.stringify(body);
        if (page > 1 && (!items || same)) {
          break;
        }
        pages.push({ path, body });
        full = page === 1 ? items : full;
        if (!paged || !items || items < full) {
          break;
        }
      }
      checkSize(pages);
    }
    const redacted = rj.redactJson(pages.map((p) => p.body), spec, r);
    return {
      kind: "json",
      recipeRead: redacted.read,
      pages: pages.map((p, i) => ({ path: p.path, body: redacted.bodies[i] })),
    };
  }

  /** Every page of every list the recipe reads, fetched, then redacted. */
  async function gatherPages(recipe, orgId, r) {
    const fetched = [];
    for (const part of recipe.users.lists) {
      const range = rd.rangePattern(part.range);
      for (let page = 1; page <= recipe.users.max_pages; page += 1) {
        const path = pathOf(part.path, orgId, page);
        const html = await (await portalGet(path, "text/html")).text();
        const doc = new DOMParser().parseFromString(html, "text/html");
        const lines = ar.linesOf(doc.body);
        if (lines.some((line) => line.includes(recipe.texts.no_permission))) {
          throw new Error(`the portal says "${recipe.texts.no_permission}" (${part.name} list)`);
        }
        const ranges = mk.rangesIn(lines, range);
        fetched.push({ part, page, path, doc, lines, ranges });
        if (ranges.length !== 1 || ranges[0].last >= ranges[0].total) {
          break;
        }
      }
    }
    const layouts = fetched.map(mk.layoutOf);
    fetched.forEach((page, i) => mk.registerPage(page, layouts[i], r));
    const pages = fetched.map((page, i) => ({
      path: page.path,
      list: page.part.name,
      page: page.page,
      html: mk.pageMarkup(page, layouts[i], r, orgId, new URL(page.path, location.origin).href),
    }));
    checkSize(pages);
    return { kind: "html", recipeRead: layouts.every((l) => l.kind !== "unknown"), pages };
  }

  async function gather(recipe, orgId) {
    if (!recipe || !recipe.users || typeof orgId !== "string" || !orgId) {
      throw new Error("the worker sent no recipe");
    }
    const r = new rd.Redactor(recipe);
    return recipe.users.read === "json" ? gatherJson(recipe, orgId, r)
      : gatherPages(recipe, orgId, r);
  }

  function run(ctx, signal) {
    const listener = (message, sender, sendResponse) => {
      // only the worker asks (our id, no tab), and only for this feature's message
      if (sender.id !== chrome.runtime.id || sender.tab || !message
          || message.type !== "gather-fixture") {
        return undefined;
      }
      gather(message.recipe, message.orgId).then(sendResponse,
        (error) => sendResponse({ error: error && error.message ? error.message : String(error) }));
      return true;
    };
    chrome.runtime.onMessage.addListener(listener);
    signal.addEventListener("abort", () => chrome.runtime.onMessage.removeListener(listener),
      { once: true });
  }

  ar.registerFeature({
    name: "support-fixture",
    applies: (ctx) => ctx.display.org.usersPage,
    run,
  });
})();

/*
 * Check by hand (sandbox, signed in, extension paired): open a users page, press
 * "Save this page for support" in the popup, then `accessrecon portal fixtures list`.
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers?tab=users
 */
