/**
 * Banner: on every page of an org with open findings, say who should not be there and
 * who must act.
 *
 * "Ben Brennan left on 3 Mar 2026 and still has Adviser access · Bob Lee was invited
 * directly by the client": the server's own sentences (`people[].detail`), the worst
 * first, three at most and a count of the rest, one to a line (the " · " between them
 * is kept in the text for anything that reads it as one line). Under each, who acts:
 * "The practice can remove it", or "Only the client can remove it: subscriber" (the
 * scan's `removable_by` and its reason). Last, the agent's own logins in the org
 * ("robot@practice.example is accessrecon's login: keep"), so nobody tidying the org
 * removes them. It sits in the bottom-right corner,
 * small and fixed, inside a closed shadow root (the portal's scripts and styles
 * cannot reach it), built from text nodes only. Its host element is also a spacer of
 * the panel's height at the end of the page, so scrolled to the bottom nothing of the
 * portal stays hidden under it. It folds to one line; the choice is remembered per
 * org for the browser session (by the worker: content scripts cannot use storage).
 * Under the sentences, one line per removal the practice asked of the client and no
 * scan has yet shown done: "Ben Brennan: removal requested from the client on 3 Mar
 * 2026".
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;

  const CSS = `
    :host { all: initial; display: block; }
    .panel {
      position: fixed; right: 16px; bottom: 16px; z-index: 2147483646;
      box-sizing: border-box; max-width: min(440px, calc(100vw - 32px));
      background: #ffffff; color: #1f2328;
      border: 1px solid #d0d7de; border-left: 6px solid var(--severity, #1565c0);
      border-radius: 8px; box-shadow: 0 4px 16px rgba(0, 0, 0, 0.16);
      font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
      padding: 8px 10px 9px 12px;
    }
    .head { display: flex; align-items: center; gap: 8px; }
    .title { flex: 1; font-weight: 600; }
    .note { display: block; color: #57606a; font-size: 12px; font-weight: 400; }
    .toggle {
      all: unset; cursor: pointer; flex: none; width: 22px; height: 22px;
      text-align: center; line-height: 22px; border-radius: 6px; color: #57606a;
      font-size: 15px;
    }
    .toggle:hover, .toggle:focus-visible { background: #eaeef2; color: #1f2328; }
    .toggle:focus-visible { outline: 2px solid #0969da; }
    .sentences { margin: 4px 0 0; padding: 0; }
    .sentence { display: block; position: relative; padding-left: 13px; margin-top: 2px; }
    .sentence::before {
      content: ""; position: absolute; left: 1px; top: 0.55em; width: 6px; height: 6px;
      border-radius: 50%; background: var(--severity, #1565c0);
    }
    .who { display: block; color: #57606a; font-size: 12px; }
    .sep { display: none; }
    .keep { margin: 4px 0 0; padding: 0; color: #424a53; font-size: 12px; }
    .keep span { display: block; }
    .more { margin: 3px 0 0; color: #57606a; font-size: 12px; }
    .requested { margin: 4px 0 0; padding: 0; color: #7c5800; font-size: 12px; }
    .requested span { display: block; }
    .panel.collapsed .sentences, .panel.collapsed .more, .panel.collapsed .note,
    .panel.collapsed .requested, .panel.collapsed .keep {
      display: none;
    }
    .critical { --severity: #c62828; }
    .high { --severity: #ef6c00; }
    .medium { --severity: #ffb300; }
    .low { --severity: #1565c0; }
    @media print { .panel { display: none; } }
  `;

  function sentences(banner) {
    const paragraph = ar.el("p", { className: "sentences" });
    banner.items.forEach((item, i) => {
      if (i) {
        paragraph.append(ar.el("span", { text: " · ", className: "sep" }));
      }
      const who = item.who ? [ar.el("span", { text: ". ", className: "sep" }),
        ar.el("span", { text: item.who, className: "who" })] : [];
      paragraph.append(ar.el("span", { className: "sentence" }, [
        document.createTextNode(item.sentence), ...who,
      ]));
    });
    return paragraph;
  }

  function run(ctx, signal) {
    const banner = ctx.display.banner;
    let collapsed = ctx.display.collapsed;
    const { host, root } = ar.shadowHost("banner", CSS);
    const toggle = ar.el("button", { className: "toggle", attrs: { type: "button" } });
    const title = ar.el("div", { className: "title" }, [
      document.createTextNode(banner.title),
      ...(banner.note ? [ar.el("span", { text: banner.note, className: "note" })] : []),
    ]);
    const panel = ar.el("section", {
      className: `panel ${banner.severity}`,
      attrs: { role: "region", "aria-label": "accessrecon findings for this org" },
    }, [ar.el("div", { className: "head" }, [title, toggle]), sentences(banner)]);
    if (banner.more) {
      panel.append(ar.el("p", {
        className: "more",
        text: `and ${banner.more} more: open accessrecon from the toolbar`,
      }));
    }
    if ((banner.requested || []).length) {
      panel.append(ar.el("p", { className: "requested" },
        banner.requested.map((line) => ar.el("span", { text: line }))));
    }
    if ((banner.keep || []).length) {
      panel.append(ar.el("p", { className: "keep" },
        banner.keep.map((line) => ar.el("span", { text: line }))));
    }
    const draw = () => {
      panel.classList.toggle("collapsed", collapsed);
      toggle.textContent = collapsed ? "▴" : "▾";
      toggle.setAttribute("aria-expanded", String(!collapsed));
      toggle.setAttribute("aria-label", collapsed ? "Show accessrecon findings"
        : "Fold accessrecon findings");
      toggle.title = toggle.getAttribute("aria-label");
    };
    toggle.addEventListener("click", () => {
      collapsed = !collapsed;
      draw();
      ar.ask({ type: "banner-collapse", collapsed });
    }, { signal });
    draw();
    root.append(panel);
    const resized = new ResizeObserver(() => {
      host.style.setProperty("height", `${Math.ceil(panel.offsetHeight) + 24}px`, "important");
    });
    resized.observe(panel);
    (document.body || document.documentElement).append(host);
    signal.addEventListener("abort", () => {
      resized.disconnect();
      host.remove();
    }, { once: true });
  }

  ar.registerFeature({ name: "banner", applies: (ctx) => Boolean(ctx.display.banner), run });
})();

/*
 * Check by hand (a sandbox org with findings):
 *   http://127.0.0.1:PORT/app/!x7Kp2/homepage
 *   http://127.0.0.1:PORT/app/company/1234567890/manageusers
 *   http://127.0.0.1:PORT/business/<uuid>/users
 */
