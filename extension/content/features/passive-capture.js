/**
 * Passive capture: send the user list a person is looking at, once it is all there.
 *
 * On an org's users page, with passive capture on (the default; options page), the
 * portal adapter reads the rows and the count the page states. Nothing is sent until
 * the adapter calls the list complete: the rows number exactly what the page says
 * (Xero `{N} users`; QuickBooks `1-{N} of {N}` on a tab, or its empty-tab text; MYOB
 * `Showing {N} of {N}` after scrolling to the end). A page that never gets there, a
 * list that failed to load or a layout the adapter does not know sends nothing:
 * never an empty list the page did not call empty. The worker checks again and posts
 * it; the server answers the org's new status, which redraws badge, banner and labels.
 */

(() => {
  "use strict";

  const ar = globalThis.accessrecon;
  const GIVE_UP_MS = 10 * 60 * 1000;

  async function run(ctx, signal) {
    const complete = await ar.watch(ctx.adapter.root(document), () => {
      const list = ctx.adapter.list(document);
      return list.state === "complete" ? list : null;
    }, { signal, timeoutMs: GIVE_UP_MS });
    if (!complete || signal.aborted) {
      return;
    }
    const answer = await ar.ask({
      type: "capture",
      list: {
        orgName: ctx.adapter.orgName(document),
        part: complete.part,
        rows: complete.rows,
        shownCount: complete.shownCount,
      },
    });
    if (answer && answer.display && !signal.aborted) {
      ctx.update(answer.display);
    }
  }

  ar.registerFeature({
    name: "passive-capture",
    applies: (ctx) => ctx.display.org.usersPage && ctx.display.passiveCapture
      && ctx.reason !== "refresh",
    run,
  });
})();

/*
 * Check by hand (sandbox, signed in, extension paired): open a users page, let it load
 * (scroll to the end on MYOB; open both tabs on QuickBooks), then
 * `accessrecon findings` or the dashboard shows a scan with source "extension".
 *   http://127.0.0.1:PORT/app/!x7Kp2/settings/users
 */
