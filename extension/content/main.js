/**
 * The content script's entry point: ask the worker about this page, run the features.
 *
 * Loaded last, after content/core.js, the portal adapters and the features. The worker
 * answers `page-status` with display data (or nothing, off an org); each registered
 * feature that applies runs with an AbortSignal. Everything is torn down and asked for
 * again when the address changes without a new document (single-page portals), and
 * redrawn when the worker sends fresh display data after a re-scan or a capture.
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;
  let controller = null;
  let asked = 0;
  let address = location.href;

  function start(display, reason) {
    if (controller) {
      controller.abort();
    }
    controller = new AbortController();
    if (!display || !display.org) {
      return;
    }
    const adapter = ar.portals.get(display.org.portal);
    if (!adapter) {
      return;
    }
    const ctx = { display, adapter, reason, update: (next) => start(next, "refresh") };
    for (const feature of ar.features) {
      try {
        if (feature.applies(ctx)) {
          feature.run(ctx, controller.signal);
        }
      } catch (error) {
        console.warn(`accessrecon: the ${feature.name} feature failed`, error);
      }
    }
  }

  function pageHint() {
    for (const adapter of ar.portals.values()) {
      const hint = adapter.pageHint(document);
      if (hint) {
        return hint;
      }
    }
    return null;
  }

  async function load(reason) {
    asked += 1;
    const mine = asked;
    const answer = await ar.ask({ type: "page-status", hint: pageHint() });
    if (mine === asked) {
      start(answer ? answer.display : null, reason);
    }
  }

  function addressChanged() {
    if (location.href !== address) {
      address = location.href;
      load("navigation");
    }
  }

  chrome.runtime.onMessage.addListener((message, sender) => {
    // only the worker sends to content scripts; other tabs cannot
    if (sender.id !== chrome.runtime.id || sender.tab) {
      return;
    }
    if (message && message.type === "display") {
      start(message.display, "refresh");
    }
  });
  if (window.navigation) {
    window.navigation.addEventListener("navigatesuccess", addressChanged);
  }
  window.addEventListener("popstate", addressChanged);
  setInterval(addressChanged, 1000);
  load("load");
})();

/*
 * Check by hand: any sandbox portal page; an org page shows badge and banner, the org
 * list shows neither:
 *   http://127.0.0.1:PORT/app/!x7Kp2/homepage
 *   http://127.0.0.1:PORT/myxero
 */
