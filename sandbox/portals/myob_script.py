"""The script of the imitation MYOB's Users and permissions page.

It appends the cards past the first 20 as the list is scrolled to its end (from the
JSON, ``textContent`` only), and offers removal to a viewer who may remove users
(``data-can-remove``): a ``Remove access for {name}`` button on every card but the
viewer's own and owner-added advisors' (which say ``Added by the business owner``),
a ``dialog`` asking ``Remove {name}'s access to {business}?``, then ``DELETE`` with the
page's CSRF token; the card goes and ``Showing {n} of {N}`` drops by one, and the
cards still to load arrive none skipped (SPEC.md).
"""

from __future__ import annotations

USERS_JS = r"""
(function () {
  "use strict";
  var main = document.getElementById("users-page");
  var box = document.getElementById("user-cards");
  var showing = document.getElementById("showing");
  var note = document.getElementById("load-status");
  var sentinel = document.getElementById("load-more");
  var v2 = main.dataset.layout === "2";
  // a viewer who may remove users gets a Remove button on each card but its own and
  // those of advisors the business owner added; the button asks in a dialog first
  var removing = main.dataset.canRemove === "1";
  var viewerId = main.dataset.viewerId;
  var OWNER_ADDED = "Added by the business owner";
  var seen = {};
  Array.prototype.forEach.call(box.children, function (c) {
    seen[c.dataset.userId || c.dataset.memberId] = true;
  });
  var total = Number(main.dataset.total);
  var shown = Number(main.dataset.shown);
  var serial = shown;  // numbers each card's label id, never reused after a removal
  var nextPage = Number(main.dataset.nextPage);
  var pageSize = Number(main.dataset.pageSize);
  var busy = false;
  var observer = null;
  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }
  function daysLeft(iso) {
    var t = Date.parse(iso);
    if (isNaN(t)) { return null; }
    return Math.max(0, Math.ceil((t - Date.now()) / 86400000));
  }
  function card(u, n) {
    var a = el("article", null, "user-card"), id = "user-" + n + "-name";
    a.dataset.userId = u.id;
    a.setAttribute("aria-labelledby", id);
    var h = el("h3", u.name || u.email); h.id = id; a.appendChild(h);
    if (u.status === "INVITED") {
      a.appendChild(el("p", "Invited", "badge"));
      var d = daysLeft(u.inviteExpiresAt);
      if (d !== null) { a.appendChild(el("p", "Expires in " + d + " days", "expires")); }
    }
    a.appendChild(el("p", "Email: " + u.email));
    a.appendChild(el("p", "Access: " + u.access));
    a.appendChild(el("p", "User type: " + u.userType));
    a.appendChild(el("p", "Roles: " + (u.roles || []).join(", ")));
    removal(a, u.id, u.name || u.email, u.addedBy);
    return a;
  }
  function removal(node, id, name, addedBy) {
    if (addedBy === "owner") {
      node.appendChild(el("p", OWNER_ADDED));
    } else if (removing && id !== viewerId) {
      var b = el("button", "Remove access for " + name); b.type = "button";
      b.dataset.removeId = id; b.dataset.removeName = name;
      node.appendChild(b);
    }
  }
  function tile(m) {
    var li = el("li", null, "member-tile"), dl = el("dl");
    li.dataset.memberId = m.memberId;
    li.appendChild(el("h3", m.displayName || m.emailAddress, "tile-name"));
    if (m.state === "INVITED") {
      li.appendChild(el("span", "Invited", "tile-badge"));
      var d = daysLeft(m.invitationExpiresAt);
      if (d !== null) { li.appendChild(el("span", " Expires in " + d + " days", "tile-expiry")); }
    }
    [["Email address", m.emailAddress], ["Access type", m.accessType],
      ["Licence", m.licenceType], ["Roles", (m.roleNames || []).join(", ")]].forEach(function (p) {
      dl.appendChild(el("dt", p[0])); dl.appendChild(el("dd", p[1]));
    });
    li.appendChild(dl);
    removal(li, m.memberId, m.displayName || m.emailAddress, m.grantedBy);
    return li;
  }
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  function removed(id) {
    var gone = Array.prototype.filter.call(box.children, function (c) {
      return (c.dataset.userId || c.dataset.memberId) === id;
    });
    gone.forEach(function (c) { c.remove(); });
    shown -= gone.length; total -= 1;
    // the rest moved up a place: the page already read now starts with one not yet seen
    if (nextPage > 1) { nextPage -= 1; }
    showing.textContent = "Showing " + shown + " of " + total;
    if (total === 1 && !document.getElementById("no-users")) {
      var empty = el("p", "No users yet", "empty"); empty.id = "no-users";
      showing.after(empty);
    }
  }
  function confirmRemoval(id, name) {
    var d = el("dialog");
    var question = el("p", "Remove " + name + "'s access to " + main.dataset.businessName + "?");
    var yes = el("button", "Remove"), no = el("button", "Cancel");
    question.id = "remove-dialog-question"; d.setAttribute("aria-labelledby", question.id);
    yes.type = "button"; no.type = "button";
    [question, yes, no].forEach(function (n) { d.appendChild(n); });
    d.addEventListener("close", function () { d.remove(); });
    no.addEventListener("click", function () { d.close(); });
    yes.addEventListener("click", function () {
      yes.disabled = true; no.disabled = true;
      fetch(main.dataset.usersUrl + "/" + encodeURIComponent(id), {
        method: "DELETE", credentials: "same-origin",
        headers: {Accept: "application/json", "X-CSRF-Token": csrfToken()}})
        .then(function (r) {
          if (r.status === 401) {
            location.assign(main.dataset.loginUrl + "?next=" +
              encodeURIComponent(location.pathname + location.search));
            return;
          }
          d.close();
          if (r.status === 204) { removed(id); note.textContent = ""; }
          else { note.textContent = "We couldn't remove access for " + name +
                 ". Refresh the page to check."; }
        })
        .catch(function () {
          d.close();
          note.textContent = "We couldn't remove access for " + name +
            ". Refresh the page to check.";
        });
    });
    document.body.appendChild(d);
    d.showModal();
  }
  box.addEventListener("click", function (e) {
    var b = e.target.closest("button[data-remove-id]");
    if (b) { confirmRemoval(b.dataset.removeId, b.dataset.removeName); }
  });
  function near() {
    return !!sentinel && sentinel.getBoundingClientRect().top <= window.innerHeight + 100;
  }
  function finish() {
    if (sentinel) { sentinel.remove(); sentinel = null; }
    if (observer) { observer.disconnect(); }
    window.removeEventListener("scroll", onScroll);
    main.dataset.state = "complete";
  }
  function failed() {
    busy = false;
    main.dataset.state = "failed";
    note.textContent = "We couldn't load more users. Scroll down to try again.";
  }
  function load() {
    if (busy || !nextPage) { return; }
    busy = true;
    main.dataset.state = "loading";
    var url = main.dataset.usersUrl + "?page=" + nextPage + "&pageSize=" + pageSize;
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) {
          location.assign(main.dataset.loginUrl + "?next=" +
            encodeURIComponent(location.pathname + location.search));
          return null;
        }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) {
        if (!data) { return; }
        var items = v2 ? data.results : data.items;
        var count = v2 ? data.count : data.total;
        if (!Array.isArray(items) || typeof count !== "number") { throw new Error("unexpected"); }
        items.forEach(function (u) {
          var id = v2 ? u.memberId : u.id;
          if (seen[id]) { return; }
          seen[id] = true;
          shown += 1; serial += 1;
          box.appendChild(v2 ? tile(u) : card(u, serial));
        });
        total = count;
        nextPage = items.length && shown < total ? nextPage + 1 : 0;
        showing.textContent = "Showing " + shown + " of " + total;
        note.textContent = "";
        busy = false;
        if (!nextPage) { finish(); return; }
        main.dataset.state = "ready";
        if (near()) { load(); }
      })
      .catch(failed);
  }
  function onScroll() { if (near()) { load(); } }
  if (!nextPage) { return; }
  if ("IntersectionObserver" in window) {
    observer = new IntersectionObserver(function (entries) {
      if (entries.some(function (e) { return e.isIntersecting; })) { load(); }
    });
    observer.observe(sentinel);
  }
  window.addEventListener("scroll", onScroll, {passive: true});
  if (near()) { load(); }
})();
"""
