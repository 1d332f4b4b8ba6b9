/**
 * What every accessrecon content script shares: registries, messages, safe DOM helpers.
 *
 * Content scripts run inside the portal's page, on data the portal renders (names
 * and emails can hold `<`, `>`, quotes, anything). So everything drawn here is built
 * from elements and text nodes (`textContent`), never from markup strings, and lives
 * inside a closed shadow root the page's own scripts cannot reach. Content scripts do
 * not hold the token, cannot read extension storage (the worker locks it) and never
 * call the server: they ask the worker, which answers display data only.
 *
 * Portal adapters (content/portals/*.js) register how to read one portal's pages;
 * features (content/features/*.js) register what to do on an org page. content/main.js
 * runs them, and aborts them (AbortSignal) when the page's address changes.
 */

(() => {
  "use strict";

  if (globalThis.accessrecon) {
    return;
  }

  const HOST_PREFIX = "accessrecon-";
  const BLOCKS = new Set(["br", "div", "p", "li", "dt", "dd", "h1", "h2", "h3", "h4", "h5",
    "h6", "tr", "section", "article", "header", "footer"]);
  const portals = new Map();
  const features = [];

  /** Adapters: `{portal, orgName(doc), pageHint(doc), list(doc), rows(doc), root(doc)}`. */
  function registerPortal(adapter) {
    if (portals.has(adapter.portal)) {
      throw new Error(`accessrecon: two adapters for ${adapter.portal}`);
    }
    portals.set(adapter.portal, adapter);
  }

  /** Features: `{name, applies(ctx), run(ctx, signal)}`. */
  function registerFeature(feature) {
    if (features.some((f) => f.name === feature.name)) {
      throw new Error(`accessrecon: two features named ${feature.name}`);
    }
    features.push(feature);
  }

  /** Ask the worker; `null` when the extension was reloaded or the worker refused. */
  async function ask(message) {
    try {
      const answer = await chrome.runtime.sendMessage(message);
      return answer && !answer.error ? answer : null;
    } catch {
      return null;
    }
  }

  function isOurs(node) {
    return node.nodeType === Node.ELEMENT_NODE && node.localName.startsWith(HOST_PREFIX);
  }

  /** Text of a node without anything accessrecon added to it. */
  function textOf(node) {
    if (!node) {
      return "";
    }
    if (node.nodeType === Node.TEXT_NODE) {
      return node.data;
    }
    if (isOurs(node)) {
      return "";
    }
    let text = "";
    for (const child of node.childNodes) {
      text += textOf(child);
    }
    return text;
  }

  /** A cell's lines: text split where the portal put a <br> (or a block element). */
  function linesOf(node) {
    const lines = [""];
    const walk = (current) => {
      for (const child of current.childNodes) {
        if (child.nodeType === Node.TEXT_NODE) {
          lines[lines.length - 1] += child.data;
        } else if (child.nodeType === Node.ELEMENT_NODE && !isOurs(child)) {
          const block = BLOCKS.has(child.localName);
          if (block) {
            lines.push("");
          }
          walk(child);
          if (block && child.localName !== "br") {
            lines.push("");
          }
        }
      }
    };
    walk(node);
    return lines.map((l) => l.replace(/\s+/g, " ").trim()).filter(Boolean);
  }

  function squash(text) {
    return text.replace(/\s+/g, " ").trim();
  }

  /** Elements whose own text (ignoring ours) matches `pattern` exactly. */
  function findText(root, pattern, selector = "p, span, div, h2, h3, small, output") {
    const found = [];
    for (const node of root.querySelectorAll(selector)) {
      if (!isOurs(node) && [...node.children].every(isOurs)
          && pattern.test(squash(textOf(node)))) {
        found.push(node);
      }
    }
    return found;
  }

  /**
   * A table whose column headers include every one of `headers` (exact, trimmed):
   * `{table, index: {header: column}}`, or null. Headers, not class names, are what a
   * person reads, so they are what the portal keeps stable.
   */
  function tableWithHeaders(root, headers) {
    for (const table of root.querySelectorAll("table")) {
      const cells = [...table.querySelectorAll("thead th, tr:first-child th")];
      const names = cells.map((c) => squash(textOf(c)));
      if (headers.every((h) => names.includes(h))) {
        const index = {};
        names.forEach((name, i) => { index[name] = i; });
        return { table, index };
      }
    }
    return null;
  }

  function bodyRows(table) {
    const body = table.tBodies[0];
    return body ? [...body.rows] : [];
  }

  /** An element built from text only: `el("span", {text, className, attrs})`. */
  function el(tag, { text, className, attrs } = {}, children = []) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    if (className) {
      node.className = className;
    }
    for (const [name, value] of Object.entries(attrs || {})) {
      node.setAttribute(name, String(value));
    }
    for (const child of children) {
      node.append(child);
    }
    return node;
  }

  /** A host element with a closed shadow root and a constructed style sheet. */
  function shadowHost(name, css) {
    const host = document.createElement(`${HOST_PREFIX}${name}`);
    const root = host.attachShadow({ mode: "closed" });
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
    return { host, root };
  }

  /**
   * Call `check()` now and on every DOM change under `root` until it returns something
   * truthy (resolved with it), the signal aborts, or `timeoutMs` passes (null).
   */
  function watch(root, check, { signal, timeoutMs = 0, onValue } = {}) {
    return new Promise((resolve) => {
      let timer = 0;
      let pending = false;
      const observer = new MutationObserver(() => {
        if (!pending) {
          pending = true;
          queueMicrotask(() => { pending = false; attempt(); });
        }
      });
      const stop = (value) => {
        observer.disconnect();
        clearTimeout(timer);
        resolve(value);
      };
      function attempt() {
        if (signal && signal.aborted) {
          stop(null);
          return;
        }
        const value = check();
        if (onValue) {
          onValue(value);
        }
        if (value) {
          stop(value);
        }
      }
      if (signal) {
        signal.addEventListener("abort", () => stop(null), { once: true });
      }
      if (timeoutMs) {
        timer = setTimeout(() => stop(null), timeoutMs);
      }
      observer.observe(root, { childList: true, subtree: true, characterData: true });
      attempt();
    });
  }

  globalThis.accessrecon = Object.freeze({
    HOST_PREFIX,
    portals,
    features,
    registerPortal,
    registerFeature,
    ask,
    isOurs,
    textOf,
    linesOf,
    squash,
    findText,
    tableWithHeaders,
    bodyRows,
    el,
    shadowHost,
    watch,
  });
})();

/*
 * Check by hand (any sandbox portal page with the extension loaded):
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users
 */
