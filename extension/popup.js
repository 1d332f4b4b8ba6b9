/**
 * The toolbar popup: the org in the tab, who can get in that should not, and a re-scan.
 *
 * Everything comes from the worker (`popup-status`): the popup never sees the token
 * and never calls the server itself. The org is the one in the tab the popup names:
 * `?tab=ID` when opened as a page (tests, screenshots), else the active tab. Names
 * and emails are portal data, so the view is built from text nodes only.
 *
 * "Re-scan now" queues a scan of this org (`rescan`) and polls its progress
 * (`scan-progress`): every 50 ms for the first 15 seconds, when a one-org scan usually
 * ends and a person is watching (each poll is one message and one local request),
 * then every half second. When it ends the worker has already refreshed the tab's
 * badge and banner, and the popup redraws from fresh data.
 *
 * "Save this page for support" (on an org's users page) asks the worker to save the
 * users list, redacted in the page, as a fixture for whoever fixes a recipe
 * (`save-fixture`).
 *
 * Dates come written from the worker (lib/dates.js: "5 Dec 2026 14:05 UTC"), never in
 * the browser's locale. The agent's own logins in the org are named, to keep.
 *
 * "Request removal" on a finding (shown to the roles that may propose) asks the worker
 * to make a removal plan of it (`request-removal`): a dry run that a second person
 * approves on the dashboard. The popup removes nothing; it says which plan was made,
 * or the server's reason for refusing.
 */


const POLL_FAST_MS = 50;
const FAST_FOR_MS = 15 * 1000;
const POLL_SLOW_MS = 500;
const GIVE_UP_MS = 10 * 60 * 1000;
const app = document.getElementById("app");

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
  node.append(...children);
  return node;
}

async function ask(message) {
  try {
    return (await chrome.runtime.sendMessage(message)) || { error: "no answer" };
  } catch (error) {
    return { error: error.message || String(error) };
  }
}

async function currentTabId() {
  const named = Number.parseInt(new URLSearchParams(location.search).get("tab") || "", 10);
  if (Number.isInteger(named)) {
    return named;
  }
  const [tab] = await chrome.tabs.query({ active: true, currentWindow: true });
  return tab ? tab.id : null;
}

function optionsLink(text = "Options") {
  const link = el("a", { text, attrs: { href: "options.html" } });
  link.addEventListener("click", (event) => {
    event.preventDefault();
    chrome.runtime.openOptionsPage();
  });
  return link;
}

function footer(view) {
  const role = view.user ? String(view.user.role || "").replace(/_/g, " ") : "";
  const who = view.user ? `Signed in as ${view.user.name}${role ? ` (${role})` : ""}`
    : "Not paired";
  return el("footer", {}, [el("span", { text: who }), optionsLink()]);
}

function header(view) {
  const title = view.status ? view.status.name : view.org.orgId;
  const mark = el("span", { className: "mark", text: view.badge.text || "·",
    attrs: { title: view.badge.title } });
  mark.style.background = view.badge.color;
  mark.style.color = view.badge.textColor;
  return el("header", { className: "org" }, [
    mark,
    el("div", {}, [
      el("h1", { text: title }),
      el("p", { className: "sub", text: `${view.org.portalName} · ${view.org.orgId}` }),
    ]),
  ]);
}

function fact(term, value, className = "") {
  return [el("dt", { text: term }), el("dd", { text: value, className })];
}

function facts(status) {
  const rows = [];
  const client = status.client ? status.client + (status.clientArchived ? " (archived)" : "")
    : "not linked to a client";
  rows.push(...fact("Client", client, status.client ? "" : "warn"));
  rows.push(...fact("Client manager", status.clientManager || "—"));
  const lastOk = status.lastOkScanAt ? `${status.lastOkScanAgo} (${status.lastOkScanWhen})`
    : "never";
  rows.push(...fact("Last good scan", lastOk, status.stale || status.neverScanned ? "warn" : ""));
  if (status.lastScanFailed) {
    rows.push(...fact("Last scan", `failed: ${status.lastScanReason}`, "warn"));
  }
  rows.push(...fact("People", `${status.peopleCount}`
    + (status.pendingCount ? ` (${status.pendingCount} invitations pending)` : "")));
  for (const email of status.agentLogins) {
    rows.push(...fact("accessrecon's login", `${email}: keep`, "keep"));
  }
  return el("dl", { className: "facts" }, rows);
}

async function requestRemoval(tabId, item, button, note) {
  button.disabled = true;
  note.className = "removal";
  note.textContent = "Making a removal plan…";
  const answer = await ask({ type: "request-removal", tabId, findingId: item.findingId });
  if (answer.error || !answer.plan) {
    note.className = "removal failed";
    note.textContent = answer.error || "no answer";
    button.disabled = false;
    return;
  }
  const [first] = answer.plan.items;
  let why = "";
  if (first && first.barrier) {
    why = ` (in its way: ${first.barrier})`;
  } else if (first && first.state === "skipped" && first.detail) {
    why = ` (nothing to remove: ${first.detail})`;
  }
  note.textContent = `plan ${answer.plan.id} made: waiting for approval${why}`;
  button.hidden = true;
}

function finding(item, view, tabId) {
  const head = el("div", { className: "finding-head" }, [
    el("span", { className: `chip ${item.severity}`, text: item.label }),
    el("span", { className: "who", text: item.name || item.email }),
    el("span", { className: `review ${item.reviewState}`, text: item.review }),
  ]);
  const parts = [head];
  if (item.name && item.email) {
    parts.push(el("div", { className: "email",
      text: item.email + (item.pending ? " · invitation pending" : "") }));
  }
  if (item.detail) {
    parts.push(el("p", { className: "detail", text: item.detail }));
  }
  if (item.removableBy) {
    parts.push(el("p", { className: "removable", text: item.removableBy }));
  }
  if (item.clientAskedOn) {
    parts.push(el("p", { className: "asked",
      text: `Removal requested from the client on ${item.clientAskedOn}` }));
  }
  if (view.canPropose && Number.isInteger(item.findingId)) {
    const note = el("p", { className: "removal", attrs: { role: "status" } });
    const button = el("button", { text: "Request removal", className: "secondary small",
      attrs: { type: "button", "data-finding": item.findingId } });
    button.addEventListener("click", () => requestRemoval(tabId, item, button, note));
    parts.push(el("div", { className: "finding-actions" }, [button, note]));
  }
  return el("li", { attrs: { "data-finding": item.findingId ?? "" } }, parts);
}

function findings(view, tabId) {
  const parts = [];
  const count = view.findings.length;
  parts.push(el("h2", { text: count ? `${count} open ${count === 1 ? "finding" : "findings"}`
    : "No open findings" }));
  if (count) {
    parts.push(el("ul", { className: "findings" },
      view.findings.map((item) => finding(item, view, tabId))));
  }
  if (view.others.length) {
    parts.push(el("p", { className: "others",
      text: `Also: ${view.others.map((o) => `${o.count} ${o.label.toLowerCase()}`).join(", ")}` }));
  }
  return parts;
}

function actions(view, tabId) {
  const progress = el("p", { className: "progress", attrs: { role: "status" } });
  const parts = [];
  if (view.kind === "org") {
    const button = el("button", { text: "Re-scan now", attrs: { type: "button", id: "rescan" } });
    button.addEventListener("click", () => rescan(tabId, button, progress));
    parts.push(button);
  }
  parts.push(el("a", { text: "Open in dashboard", attrs: { href: view.dashboardUrl,
    target: "_blank", rel: "noopener noreferrer", id: "dashboard" } }));
  const shown = [el("div", { className: "actions" }, parts), progress];
  if (view.org && view.org.usersPage) {
    shown.push(...supportSave(tabId));
  }
  return shown;
}

/**
 * "Save this page for support": the users list, redacted in the page, saved on the
 * server as a fixture to replay with a fixed recipe.
 */
function supportSave(tabId) {
  const note = el("p", { className: "support-note", attrs: { role: "status", id: "support-status" } });
  const button = el("button", { text: "Save this page for support",
    className: "secondary small", attrs: { type: "button", id: "save-fixture" } });
  button.addEventListener("click", async () => {
    button.disabled = true;
    note.className = "support-note";
    note.textContent = "Saving the user list, names and e-mails replaced in the page…";
    const answer = await ask({ type: "save-fixture", tabId });
    button.disabled = false;
    if (answer.error || !answer.fixture) {
      note.className = "support-note failed";
      note.textContent = `Not saved: ${answer.error || "no answer"}`;
      return;
    }
    const saved = answer.fixture;
    const pages = `${saved.pages} ${saved.pages === 1 ? "page" : "pages"}`;
    note.textContent = `Saved for support as fixture ${saved.id} (${pages}, `
      + `${(saved.sizeBytes / 1024).toFixed(1)} kB): names and e-mails were replaced before `
      + "it left this browser."
      + (saved.recipeRead ? "" : ` The recipe ${saved.recipe} does not read this layout; `
        + "the list was saved as shown, for a fixed recipe to be tried on it.");
  });
  return [el("div", { className: "support" }, [button]), note];
}

function describe(request) {
  if (request.status === "queued") {
    return "Queued: waiting for the accessrecon worker…";
  }
  if (request.status === "running") {
    return request.total ? `Scanning… ${request.done} of ${request.total}` : "Scanning…";
  }
  if (request.status === "done") {
    return "Scan finished.";
  }
  return `The scan failed${request.detail ? `: ${request.detail}` : "."}`;
}

async function rescan(tabId, button, progress) {
  button.disabled = true;
  progress.className = "progress";
  progress.textContent = "Asking for a re-scan…";
  const started = await ask({ type: "rescan", tabId });
  if (started.error) {
    progress.className = "progress failed";
    progress.textContent = started.error;
    button.disabled = false;
    return;
  }
  const since = Date.now();
  let request = started.request;
  progress.textContent = describe(request);
  while (Date.now() - since < GIVE_UP_MS) {
    const wait = Date.now() - since < FAST_FOR_MS ? POLL_FAST_MS : POLL_SLOW_MS;
    await new Promise((resolve) => { setTimeout(resolve, wait); });
    const answer = await ask({ type: "scan-progress", id: request.id });
    if (answer.error) {
      progress.className = "progress failed";
      progress.textContent = answer.error;
      break;
    }
    request = answer.request;
    progress.textContent = describe(request);
    if (answer.finished) {
      await render(tabId, describe(request), request.status === "failed");
      return;
    }
  }
  button.disabled = false;
}

function message(view) {
  const texts = {
    "not-org": "This tab is not inside a Xero, QuickBooks Online or MYOB org.",
    unpaired: "This browser is not paired with an accessrecon server yet.",
    offline: `The accessrecon server at ${view.server} did not answer.`,
    unknown: "accessrecon has never scanned this org, or it belongs to a client outside "
      + "yours.",
  };
  const parts = [el("p", { text: texts[view.kind] || "" })];
  if (view.kind === "unpaired") {
    const button = el("button", { text: "Pair this browser", attrs: { type: "button" } });
    button.addEventListener("click", () => chrome.runtime.openOptionsPage());
    parts.push(el("div", { className: "actions" }, [button]));
  }
  if (view.kind === "offline" && view.detail) {
    parts.push(el("p", { className: "muted", text: view.detail }));
  }
  return parts;
}

async function render(tabId, note = "", failed = false) {
  const answer = await ask({ type: "popup-status", tabId });
  app.replaceChildren();
  app.setAttribute("aria-busy", "false");
  if (answer.error || !answer.view) {
    app.append(el("p", { text: `accessrecon could not load this tab: ${answer.error}` }));
    return;
  }
  const view = answer.view;
  document.body.dataset.state = view.kind;
  if (view.org) {
    app.append(header(view));
  }
  if (view.kind === "org") {
    app.append(facts(view.status), ...findings(view, tabId), ...actions(view, tabId));
  } else {
    app.append(...message(view));
    if (view.kind === "unknown") {
      app.append(...actions(view, tabId));
    }
  }
  if (note) {
    const progress = app.querySelector(".progress");
    if (progress) {
      progress.textContent = note;
      progress.className = failed ? "progress failed" : "progress";
    }
  }
  app.append(footer(view));
}

currentTabId().then((tabId) => render(tabId));

/*
 * Check by hand: click the toolbar button on a sandbox org page, or open
 * chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/popup.html?tab=TAB_ID
 */
