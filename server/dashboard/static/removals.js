// Live progress on a removal plan's page: poll the plan's JSON feed every two seconds
// while an item is approved, running or removed (waiting for the scan that verifies
// it), and update each item's state and detail in place, the plan's status, and
// whether a run is still waiting or possible. Text is set with textContent only: a
// detail may quote a portal's words. The script writes no dates.
"use strict";

(function () {
  const status = document.getElementById("live-status");
  if (!status) return;
  const feed = status.dataset.feed;
  const POLL_MS = 2000;
  const planStatus = document.getElementById("plan-status");

  // a state in the words the server's pages use for it (agent/reports/words.py),
  // handed over in the live-status element's data-labels
  const labels = JSON.parse(status.dataset.labels || "{}");

  function label(state) {
    return labels[state] || state.charAt(0).toUpperCase() + state.slice(1).replace(/_/g, " ");
  }

  function update(item) {
    const row = document.getElementById(`item-${item.id}`);
    if (!row) return;
    row.dataset.state = item.state;
    const badge = row.querySelector('[data-field="state"]');
    badge.textContent = label(item.state);
    badge.className = `rstate rstate-${item.state}`;
    row.querySelector('[data-field="detail"]').textContent = item.detail;
  }

  async function poll() {
    try {
      const response = await fetch(feed, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) {
        status.textContent = "Signed out — reload to sign in again";
        return;
      }
      if (!response.ok) {
        status.textContent = "This plan is no longer shown; reload the page";
        return;
      }
      const data = await response.json();
      data.items.forEach(update);
      if (planStatus) planStatus.textContent = label(data.status);
      const runForm = document.getElementById("run-form");
      if (runForm) runForm.hidden = !data.runnable;
      const requested = document.getElementById("run-requested");
      if (requested) requested.hidden = !data.run_requested;
      status.dataset.live = data.live ? "yes" : "no";
      if (!data.live) {
        status.textContent = "Nothing in progress";
        return;
      }
      status.textContent = "Updating live";
    } catch (err) {
      status.textContent = "Cannot reach the server; retrying";
    }
    window.setTimeout(poll, POLL_MS);
  }

  if (status.dataset.live === "yes") window.setTimeout(poll, POLL_MS);
})();
