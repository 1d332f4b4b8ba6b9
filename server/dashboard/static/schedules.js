// The schedule picker: "weekdays at 07:00" shown as the cron expression it makes,
// live, as the server will make and store it (server/dashboard/pages/admin.py,
// picked_cron). Writing in the cron field by hand switches the picker to "Cron
// (advanced)", so what is sent is what is shown. The form works without this script.
"use strict";

(function () {
  const WEEKDAYS = { daily: "*", weekdays: "1-5" };
  const WORDS = { daily: "every day", weekdays: "weekdays" };

  function made(how, at) {
    const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(at);
    if (!match) return null;
    return `${Number(match[2])} ${Number(match[1])} * * ${WEEKDAYS[how]}`;
  }

  for (const form of document.querySelectorAll("form[data-picker]")) {
    const how = form.elements.namedItem("how");
    const at = form.elements.namedItem("at");
    const cron = form.elements.namedItem("cron");
    const zone = form.elements.namedItem("timezone");
    const preview = form.querySelector('[data-field="preview"]');
    const atLabel = form.querySelector(".picker-at");

    function show() {
      const picked = how.value in WEEKDAYS;
      atLabel.hidden = !picked;
      const where = zone.value.trim() || "the practice's";
      if (!picked) {
        preview.textContent = `The cron expression as written, ${where} time.`;
        return;
      }
      const expression = made(how.value, at.value);
      if (expression === null) {
        preview.textContent = "Write the time of day as HH:MM, e.g. 07:00.";
        return;
      }
      cron.value = expression;
      preview.textContent = `Makes ${expression}: ${WORDS[how.value]} at ${at.value}, ${where} time.`;
    }

    how.addEventListener("change", show);
    at.addEventListener("input", show);
    zone.addEventListener("input", show);
    cron.addEventListener("input", () => {
      how.value = "cron";
      show();
    });
    show();
  }
})();
