// Live progress on the scans page: poll the dashboard's JSON feed while a scan
// request is queued or running, update those rows, and reload the page once one
// finishes (so the crawl history shows the new crawl). Text is set with
// textContent only: a request's detail may quote a portal's words. The script
// writes no dates; statuses are shown in the page's own words, which the page
// hands it in the live-status element's data-labels.
"use strict";

(function () {
  const status = document.getElementById("live-status");
  if (!status) return;
  const feed = status.dataset.feed;
  const POLL_MS = 2000;
  const IDLE_MS = 10000;
  const active = new Set(
    Array.from(document.querySelectorAll("tr[data-request]"))
      .filter((row) => ["queued", "running"].includes(row.dataset.status))
      .map((row) => row.dataset.request),
  );

  // a status in the words the server's pages use for it (agent/reports/words.py)
  const labels = JSON.parse(status.dataset.labels || "{}");

  function counts(r) {
    let text = `${r.done} read`;
    if (r.failed) text += `, ${r.failed} failed`;
    if (r.total) text += ` of ${r.total}`;
    return text;
  }

  function update(r) {
    const row = document.getElementById(`request-${r.id}`);
    if (!row) return false;
    row.dataset.status = r.status;
    const badge = row.querySelector('[data-field="status"]');
    badge.textContent = labels[r.status] || r.status;
    badge.className = `result result-${r.status}`;
    const bar = row.querySelector('[data-field="bar"]');
    bar.max = r.total || 1;
    bar.value = r.total ? r.done + r.failed : (["done", "failed"].includes(r.status) ? 1 : 0);
    row.querySelector('[data-field="counts"]').textContent = counts(r);
    return true;
  }

  async function poll() {
    let delay = active.size ? POLL_MS : IDLE_MS;
    try {
      const response = await fetch(feed, { credentials: "same-origin", cache: "no-store" });
      if (response.status === 401) {
        status.textContent = "Signed out — reload to sign in again";
        return;
      }
      const data = await response.json();
      let finished = false;
      let unknown = false;
      for (const r of data.requests) {
        const shown = update(r);
        if (!shown && ["queued", "running"].includes(r.status)) unknown = true;
        if (active.has(String(r.id)) && !["queued", "running"].includes(r.status)) finished = true;
      }
      if (finished || unknown) {
        window.location.reload();
        return;
      }
      status.textContent = data.active
        ? `${data.active} in progress — updating live`
        : "Nothing in progress";
      delay = data.active ? POLL_MS : IDLE_MS;
    } catch (err) {
      status.textContent = "Cannot reach the server; retrying";
    }
    window.setTimeout(poll, delay);
  }

  window.setTimeout(poll, active.size ? POLL_MS : IDLE_MS);
})();
