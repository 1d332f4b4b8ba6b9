"""The scripts of the imitation Xero's pages: they draw the lists from the JSON.

The org list and the Users table arrive a moment after the page, built with
``textContent`` only (never markup from data). The Users script also offers removal
to a viewer who may remove users (``data-can-remove``): a ``Remove {name}`` button on
every row but the viewer's own and the subscriber's, a ``dialog`` titled
``Remove user`` asking ``Remove {name} from {org}?``, then ``POST …/remove`` with the
page's CSRF token, ``{name} was removed`` and the table drawn again (SPEC.md).
"""

from __future__ import annotations

_JS_COMMON = r"""
  function el(tag, text) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }
  function label(map, code) {
    return Object.prototype.hasOwnProperty.call(map, code) ? map[code] : String(code);
  }
  function lines(node, texts) {
    texts.forEach(function (text, i) {
      if (i) { node.appendChild(el("br")); }
      node.appendChild(document.createTextNode(text));
    });
  }
  var ROLE = {FINANCIALADVISER: "Adviser", STANDARD: "Standard", READONLY: "Read only",
    INVOICEONLY: "Invoice only", MANAGEDCLIENT: "Managed client",
    CASHBOOKCLIENT: "Cashbook client"};
  function loadJson(url, loginUrl, done, failed) {
    fetch(url, {headers: {Accept: "application/json"}, credentials: "same-origin"})
      .then(function (r) {
        if (r.status === 401) {
          var here = location.pathname + location.search;
          location.assign(loginUrl + "?next=" + encodeURIComponent(here));
          return null;
        }
        if (!r.ok) { throw new Error("HTTP " + r.status); }
        return r.json();
      })
      .then(function (data) { if (data) { done(data); } })
      .catch(function () { failed(); });
  }
"""

USERS_JS = (
    '(function () {\n  "use strict";\n'
    + _JS_COMMON
    + r"""
  var main = document.getElementById("users-page");
  var root = document.getElementById("users-root");
  var count = document.getElementById("user-count");
  var PERM = {MANAGE_USERS: "Manage users", PAYROLL_ADMIN: "Payroll admin",
    BANK_ACCOUNT_ADMIN: "Bank account admin"};
  var STATUS = {ACTIVE: "Active", PENDING: "Pending", DECLINED: "Declined"};
  // a viewer who may remove users gets a Remove button on each row but its own and
  // the subscriber's; the button asks in a dialog, then posts the removal
  var removing = main.dataset.canRemove === "1";
  var viewerId = main.dataset.viewerId;
  var notice = document.getElementById("removal-notice");
  function removeCell(tag, id, name, subscriber) {
    var cell = el(tag);
    if (id !== viewerId && !subscriber) {
      var b = el("button", "Remove " + name); b.type = "button";
      b.addEventListener("click", function () { confirmRemoval(id, name); });
      cell.appendChild(b);
    }
    return cell;
  }
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  function say(text, isError) {
    notice.textContent = text;
    notice.className = isError ? "error" : "notice";
  }
  function confirmRemoval(id, name) {
    var d = el("dialog"), title = el("h3", "Remove user");
    var question = el("p", "Remove " + name + " from " + main.dataset.orgName + "?");
    var yes = el("button", "Remove"), no = el("button", "Cancel");
    title.id = "remove-dialog-title"; d.setAttribute("aria-labelledby", title.id);
    yes.type = "button"; no.type = "button";
    [title, question, yes, no].forEach(function (n) { d.appendChild(n); });
    d.addEventListener("close", function () { d.remove(); });
    no.addEventListener("click", function () { d.close(); });
    yes.addEventListener("click", function () {
      yes.disabled = true; no.disabled = true;
      var url = main.dataset.usersUrl + "/" + encodeURIComponent(id) + "/remove";
      fetch(url, {method: "POST", credentials: "same-origin",
                  headers: {Accept: "application/json", "X-CSRF-Token": csrfToken()}})
        .then(function (r) {
          if (r.status === 401) {
            location.assign(main.dataset.loginUrl + "?next=" +
              encodeURIComponent(location.pathname + location.search));
            return;
          }
          d.close();
          if (r.ok) { say(name + " was removed", false); }
          else { say("We couldn't remove " + name + ". Refresh the page to check.", true); }
          refresh();
        })
        .catch(function () {
          d.close();
          say("We couldn't remove " + name + ". Refresh the page to check.", true);
          refresh();
        });
    });
    document.body.appendChild(d);
    d.showModal();
  }
  function fullName(first, last) { return ((first || "") + " " + (last || "")).trim(); }
  function when(iso) {
    if (!iso) { return "Never"; }
    var d = new Date(iso);
    if (isNaN(d.getTime())) { return String(iso); }
    return d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
  }
  function access(role, extras) {
    return [label(ROLE, role)].concat((extras || []).map(function (p) { return label(PERM, p); }));
  }
  function table(users) {
    var t = el("table"), head = el("thead"), row = el("tr"), body = el("tbody");
    t.className = "users-table";
    ["Name", "Permissions", "Two-step authentication", "Status", "Last login",
      "Logins this week"].forEach(function (h) {
      var th = el("th", h); th.scope = "col"; row.appendChild(th);
    });
    if (removing) { row.appendChild(el("th")); }
    head.appendChild(row); t.appendChild(head);
    users.forEach(function (u) {
      var tr = el("tr"), name = el("td"), perms = el("td");
      tr.dataset.userId = u.userId;
      var n = el("span", fullName(u.firstName, u.lastName)); n.className = "user-name";
      var e = el("span", u.email); e.className = "user-email";
      name.appendChild(n); name.appendChild(el("br")); name.appendChild(e);
      lines(perms, access(u.role, u.extraPermissions));
      tr.appendChild(name); tr.appendChild(perms);
      tr.appendChild(el("td", u.twoStep ? "Enabled" : "Not enabled"));
      tr.appendChild(el("td", label(STATUS, u.status)));
      tr.appendChild(el("td", when(u.lastLoginUtc)));
      tr.appendChild(el("td", u.loginsThisWeek));
      if (removing) {
        tr.appendChild(removeCell("td", u.userId, fullName(u.firstName, u.lastName) || u.email,
                                  u.isSubscriber));
      }
      body.appendChild(tr);
    });
    t.appendChild(body);
    return t;
  }
  function team(members) {
    var list = el("ul");
    list.className = "team-list";
    members.forEach(function (m) {
      var li = el("li"); li.className = "team-member"; li.dataset.memberId = m.id;
      function part(cls, text) { var d = el("div", text); d.className = cls; li.appendChild(d); }
      part("tm-name", fullName(m.givenName, m.familyName));
      part("tm-email", m.emailAddress);
      var a = el("div"); a.className = "tm-access";
      lines(a, access(m.organisationRole, m.permissions));
      li.appendChild(a);
      part("tm-mfa", m.mfaEnabled ? "Enabled" : "Not enabled");
      part("tm-state", label(STATUS, m.state));
      part("tm-seen", when(m.lastSeenAt));
      part("tm-weekly", m.weeklyLogins);
      if (removing) {
        li.appendChild(removeCell("div", m.id, fullName(m.givenName, m.familyName) ||
                                  m.emailAddress, m.subscriber));
      }
      list.appendChild(li);
    });
    return list;
  }
  function show(data) {
    var v2 = main.dataset.layout === "2";
    var rows = v2 ? data.members : data.users;
    var total = v2 ? data.count : data.total;
    if (!Array.isArray(rows) || typeof total !== "number") { failed(); return; }
    count.textContent = total + " users";
    root.replaceChildren(v2 ? team(rows) : table(rows));
    root.setAttribute("aria-busy", "false");
    main.dataset.state = "loaded";
  }
  function failed() {
    var p = el("p", "We couldn't load users. Refresh the page to try again.");
    p.className = "error"; p.setAttribute("role", "alert");
    root.replaceChildren(p);
    root.setAttribute("aria-busy", "false");
    main.dataset.state = "failed";
  }
  function refresh() {
    main.dataset.state = "loading";
    loadJson(main.dataset.usersUrl, main.dataset.loginUrl, show, failed);
  }
  setTimeout(refresh, 200 + Math.floor(Math.random() * 800));
})();
"""
)

ORGS_JS = (
    '(function () {\n  "use strict";\n'
    + _JS_COMMON
    + r"""
  var main = document.getElementById("org-list");
  var root = document.getElementById("orgs-root");
  function show(data) {
    if (!data || !Array.isArray(data.orgs)) { failed(); return; }
    if (!data.orgs.length) {
      root.replaceChildren(el("p", "You don't have access to any organisations yet."));
    } else {
      var t = el("table"), head = el("thead"), row = el("tr"), body = el("tbody");
      ["Organisation", "Your role", "Subscriber"].forEach(function (h) {
        var th = el("th", h); th.scope = "col"; row.appendChild(th);
      });
      head.appendChild(row); t.appendChild(head);
      data.orgs.forEach(function (o) {
        var tr = el("tr"), name = el("td"), link = el("a", o.name);
        tr.dataset.orgId = o.shortCode;
        link.href = "/app/" + encodeURIComponent(o.shortCode) + "/homepage";
        name.appendChild(link); tr.appendChild(name);
        tr.appendChild(el("td", label(ROLE, o.role)));
        tr.appendChild(el("td", o.isSubscriber ? "Yes" : "No"));
        body.appendChild(tr);
      });
      t.appendChild(body);
      root.replaceChildren(t);
    }
    root.setAttribute("aria-busy", "false");
    main.dataset.state = "loaded";
  }
  function failed() {
    var p = el("p", "We couldn't load your organisations. Refresh the page to try again.");
    p.className = "error"; p.setAttribute("role", "alert");
    root.replaceChildren(p);
    main.dataset.state = "failed";
  }
  loadJson(main.dataset.orgsUrl, main.dataset.loginUrl, show, failed);
})();
"""
)
