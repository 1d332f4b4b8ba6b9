/**
 * The options page: which server, pairing, passive capture.
 *
 * Every change is a message to the worker (`settings-get`, `settings-set`, `pair`,
 * `unpair`); this page never holds the token, not even for a moment: the code goes
 * to the worker, the worker exchanges it and keeps the token, and the page is told
 * only whom it now signs in as.
 */

const $ = (id) => document.getElementById(id);

async function ask(message) {
  try {
    return (await chrome.runtime.sendMessage(message)) || { error: "no answer" };
  } catch (error) {
    return { error: error.message || String(error) };
  }
}

function say(id, text, kind = "") {
  const node = $(id);
  node.textContent = text;
  node.className = `status ${kind}`.trim();
}

let serverEdited = false;
$("server").addEventListener("input", () => { serverEdited = true; });

/** Draw the settings; an address the person is typing is left alone. */
function show(settings) {
  if (!serverEdited) {
    $("server").value = settings.server;
  }
  $("passive-capture").checked = settings.passiveCapture;
  const state = $("pair-state");
  if (settings.paired && settings.user) {
    state.textContent = `Paired: signed in as ${settings.user.name} `
      + `(${String(settings.user.role || "").replace(/_/g, " ")}).`;
  } else {
    state.textContent = "Not paired.";
  }
  document.body.dataset.paired = String(settings.paired);
  $("unpair").hidden = !settings.paired;
}

$("server-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const answer = await ask({ type: "settings-set", server: $("server").value });
  if (answer.error) {
    say("server-status", answer.error, "error");
    return;
  }
  serverEdited = false;
  show(answer);
  say("server-status", `Saved: ${answer.server}`, "ok");
});

$("pair-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const button = event.submitter || $("pair-form").querySelector("button");
  button.disabled = true;
  say("pair-status", "Pairing…");
  const answer = await ask({ type: "pair", code: $("code").value, label: $("label").value });
  button.disabled = false;
  $("code").value = "";
  if (!answer.ok) {
    say("pair-status", answer.reason || answer.error || "pairing failed", "error");
  } else {
    say("pair-status", `Paired as ${answer.user.name}.`, "ok");
  }
  show(await ask({ type: "settings-get" }));
});

$("unpair").addEventListener("click", async () => {
  const answer = await ask({ type: "unpair" });
  say("pair-status", answer.revoked ? "Unpaired; the token was revoked on the server."
    : "Unpaired.", "ok");
  show(await ask({ type: "settings-get" }));
});

$("passive-capture").addEventListener("change", async (event) => {
  show(await ask({ type: "settings-set", passiveCapture: event.target.checked }));
});

ask({ type: "settings-get" }).then(show);

/*
 * Check by hand: chrome-extension://dlknhomepfggimodiicoicanhdhjlghk/options.html
 * (`accessrecon pair` prints a code to try).
 */
