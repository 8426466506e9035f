// Polls /dashboard/data and redraws the figures and tables without reloading the page.
// Builds the DOM with textContent only, so nothing from the data is ever parsed as HTML.
"use strict";
(function () {
  var refresh = Number(document.body.getAttribute("data-refresh-seconds")) || 15;
  var CATEGORY = {
    suicide: "suicide", self_harm: "self-harm", abuse: "abuse",
    sexual_abuse: "sexual abuse", violence_to_others: "violence to others",
    child_danger: "child in danger"
  };
  var MARK = { high: "▲▲▲", medium: "▲▲", low: "▲" };

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "none"; }
    var total = Math.max(Math.floor(seconds), 0);
    if (total < 60) { return total + " s"; }
    var minutes = Math.floor(total / 60);
    if (minutes < 60) { return minutes + " min"; }
    var rest = minutes % 60;
    return Math.floor(minutes / 60) + " h " + (rest < 10 ? "0" : "") + rest + " min";
  }

  // Today's median before anyone was assigned: "none yet", not "0 s" (pages.median_wait).
  function medianWait(seconds) {
    if (seconds === null || seconds === undefined) { return "none yet"; }
    return duration(seconds);
  }

  // "Today" for a lead of some offices (pages.NOT_SHOWN, pages.TODAY_NOT_SHOWN).
  var NOT_SHOWN = "\u2013";
  var TODAY_NOT_SHOWN = "Today's figures are counted for all offices together, so they " +
    "are not shown to the team lead of some offices.";

  function figure(value) {
    return value === null || value === undefined ? NOT_SHOWN : value;
  }

  function el(tag, text, cls) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    if (cls) { node.className = cls; }
    return node;
  }

  function badge(kind, value, mark) {
    var span = el("span", null, "badge " + kind + "-" + value);
    if (mark) {
      var icon = el("span", mark);
      icon.setAttribute("aria-hidden", "true");
      span.appendChild(icon);
      span.appendChild(document.createTextNode(" "));
    }
    span.appendChild(document.createTextNode(value));
    return span;
  }

  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (cell) {
      var td = cell.header ? el("th") : el("td");
      if (cell.header) { td.setAttribute("scope", "row"); }
      if (cell.node) { td.appendChild(cell.node); } else { td.textContent = cell.text; }
      tr.appendChild(td);
    });
    return tr;
  }

  function fill(id, items, columns, emptyText, build) {
    var body = document.getElementById(id);
    if (!body) { return; }
    var rows = items.length ? items.map(build) : [emptyRow(columns, emptyText)];
    body.replaceChildren.apply(body, rows);
  }

  function emptyRow(columns, text) {
    var tr = document.createElement("tr");
    var td = el("td", text, "empty");
    td.setAttribute("colspan", String(columns));
    tr.appendChild(td);
    return tr;
  }

  function setText(id, text) {
    var node = document.getElementById(id);
    if (node && node.textContent !== String(text)) { node.textContent = String(text); }
  }

  function timed(iso, seconds) {
    var node = el("time", duration(seconds));
    node.setAttribute("datetime", iso);
    return node;
  }

  // A youth a counsellor gave back keeps their place from the first arrival, while the
  // wait counts from the hand-back: the note explains the order.
  function waited(q) {
    var node = timed(q.waiting_since, q.waited_seconds);
    if (!q.handed_back) { return node; }
    var cell = el("span");
    cell.appendChild(node);
    cell.appendChild(document.createTextNode(" "));
    cell.appendChild(el("span", "(handed back)", "hint"));
    return cell;
  }

  function render(data) {
    setText("queue-length", data.queue_length);
    setText("crisis-waiting", data.crisis_waiting);
    setText("longest-wait", data.queue.length ? duration(data.longest_wait_seconds) : "none");
    setText("on-duty", data.staff.length);
    setText("unverified", data.unverified_on_duty);
    setText("overdue", data.overdue_replies);
    setText("open-flags", data.crisis.length);
    // null: a lead of some offices; the day's tally covers every office.
    var today = data.today || {};
    setText("today-note", data.today ? "" : TODAY_NOT_SHOWN);
    setText("today-opened", figure(today.opened));
    setText("today-closed", figure(today.closed));
    setText("today-crisis", figure(today.crisis_flags));
    setText("today-median", data.today ? medianWait(today.median_wait_seconds) : NOT_SHOWN);
    setText("today-breaches", figure(today.deadline_breaches));
    fill("crisis-rows", data.crisis, 5, "No open crisis flags.", function (c) {
      var room = { text: "no link" };
      if (c.room_link) {
        var link = el("a", "Open room of " + c.conversation);
        link.setAttribute("href", c.room_link);
        link.setAttribute("rel", "noopener noreferrer");
        room = { node: link };
      }
      return row([
        { node: badge("sev", c.severity, MARK[c.severity] || "") },
        { text: CATEGORY[c.category] || "not recorded" },
        { node: el("code", c.conversation) },
        { text: duration(c.open_seconds) },
        room
      ]);
    });
    fill("queue-rows", data.queue, 5, "Nobody is waiting.", function (q) {
      return row([
        { node: el("code", q.conversation) },
        q.priority === "crisis" ? { node: badge("prio", "crisis") } : { text: "normal" },
        { text: q.channel },
        { text: q.language },
        { node: waited(q) }
      ]);
    });
    fill("staff-rows", data.staff, 3, "Nobody is on duty.", function (s) {
      return row([{ text: s.nickname, header: true }, { text: s.load }, { text: s.capacity }]);
    });
  }

  function status(text) { setText("status", text); }

  function poll() {
    fetch("/dashboard/data", {
      credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" }
    }).then(function (resp) {
      if (resp.status === 401) { window.location.assign("/login"); return null; }
      if (!resp.ok) { throw new Error("HTTP " + resp.status); }
      return resp.json();
    }).then(function (data) {
      if (data) {
        render(data);
        status("Updated " + new Date(data.generated_at).toLocaleTimeString() +
               " · refreshes every " + refresh + " s");
      }
    }).catch(function () {
      status("Could not update the figures; trying again in " + refresh + " s");
    }).then(function () {
      window.setTimeout(poll, refresh * 1000);
    });
  }

  window.setTimeout(poll, refresh * 1000);
}());
