// The findings list's bulk bar: say how many findings are ticked, keep its buttons
// off until one is, and give each group a box that ticks all of its findings.
// The forms work without this script; it only saves clicks. Text is set with
// textContent only: a group's title is a person's or a client's name.
"use strict";

(function () {
  const bar = document.getElementById("plan-selected");
  const list = document.getElementById("findings");
  if (!bar || !list) return;
  const count = document.getElementById("ticked-count");
  const buttons = Array.from(bar.querySelectorAll("button"));
  const boxes = () => Array.from(list.querySelectorAll('input[name="finding_ids"]'));

  function refresh() {
    const ticked = boxes().filter((box) => box.checked).length;
    count.textContent = ticked
      ? `${ticked} finding${ticked === 1 ? "" : "s"} ticked`
      : "Tick findings above to act on several at once.";
    for (const button of buttons) button.disabled = ticked === 0;
    bar.classList.toggle("ticking", ticked > 0); // the bar follows the scroll while in use
    for (const group of list.querySelectorAll("section.group")) {
      const all = group.querySelector("input.tick-group");
      if (!all) continue;
      const mine = Array.from(group.querySelectorAll('input[name="finding_ids"]'));
      const on = mine.filter((box) => box.checked).length;
      all.checked = on > 0 && on === mine.length;
      all.indeterminate = on > 0 && on < mine.length;
    }
  }

  for (const group of list.querySelectorAll("section.group")) {
    const mine = Array.from(group.querySelectorAll('input[name="finding_ids"]'));
    if (!mine.length) continue;
    const heading = group.querySelector("h2");
    const all = document.createElement("input");
    all.type = "checkbox";
    all.className = "tick-group";
    all.setAttribute("aria-label", `Tick every finding of ${heading ? heading.textContent.trim() : "this group"}`);
    all.addEventListener("change", () => {
      for (const box of mine) box.checked = all.checked;
      refresh();
    });
    group.querySelector(".group-head").prepend(all);
  }
  list.addEventListener("change", refresh);
  refresh();
})();
