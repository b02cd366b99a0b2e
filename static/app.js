// JBT-planner: the only script. Pages work without it; it keeps the slot
// board current. Every few seconds it asks /board/stamp (per region a
// fingerprint without case data); when a region changed it fetches only
// that region's rows and the queue (/board/fragment?alleen=...) and swaps
// them in, and it says so in a polite live region.
(function () {
  "use strict";
  var INTERVAL_MS = 5000;
  var board = document.getElementById("board");
  if (!board) { return; }
  var status = document.getElementById("board-status");

  function current() { return document.getElementById("board"); }

  // "queue=1.2;food-valley=3.4" -> { queue: "1.2", "food-valley": "3.4" }
  function parts(stamp) {
    var out = {};
    (stamp || "").split(";").forEach(function (part) {
      var at = part.indexOf("=");
      if (at > 0) { out[part.slice(0, at)] = part.slice(at + 1); }
    });
    return out;
  }

  // The regions whose part changed; null when the regions themselves differ.
  function changedRegions(before, after) {
    var old = parts(before), now = parts(after), changed = [];
    var keys = Object.keys(now);
    if (keys.length !== Object.keys(old).length) { return null; }
    for (var i = 0; i < keys.length; i++) {
      if (!(keys[i] in old)) { return null; }
      if (keys[i] !== "queue" && old[keys[i]] !== now[keys[i]]) { changed.push(keys[i]); }
    }
    return changed;
  }

  function withParam(search, name, value) {
    var query = search ? search + "&" : "?";
    return query + name + "=" + encodeURIComponent(value);
  }

  function swap(html, fresh, changed) {
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#board");
    if (focused) { return; } // never pull the board from under a keyboard user
    // nor from under someone ticking referrals to confirm
    if (current().querySelector("input[type=checkbox]:checked")) { return; }
    var holder = document.createElement("div");
    holder.innerHTML = html;
    var next = holder.querySelector("#board");
    if (!next) { return; }
    if (changed === null) {
      current().replaceWith(next);
    } else {
      changed.forEach(function (region) {
        var row = next.querySelector('tr[data-region="' + region + '"]');
        var old = current().querySelector('tr[data-region="' + region + '"]');
        if (row && old) { old.replaceWith(row); }
      });
      ["p.small", "section.queue"].forEach(function (selector) {
        var part = next.querySelector(selector);
        var old = current().querySelector(selector);
        if (part && old) { old.replaceWith(part); }
      });
      current().setAttribute("data-board-stamp", fresh);
    }
    if (status) { status.textContent = "Planbord bijgewerkt."; }
  }

  function refresh() {
    var stamp = current().getAttribute("data-board-stamp");
    var changed = null;
    var fresh = null;
    fetch("/board/stamp", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.redirected || r.status === 401 || r.status === 403) {
          window.location.reload();
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (text) {
        if (text === null || text === stamp) { return null; }
        fresh = text;
        changed = changedRegions(stamp, fresh);
        var search = window.location.search;
        // Only the changed rows (and the queue); all when unsure.
        var url = "/board/fragment" + (changed === null ? search : withParam(search, "alleen", changed.length ? changed.join(",") : "-"));
        return fetch(url, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.text() : null; });
      })
      .then(function (html) {
        if (html) { swap(html, fresh, changed); }
      })
      .catch(function () {
        if (status) { status.textContent = "Verbinding verbroken; het planbord wordt niet bijgewerkt."; }
      });
  }

  window.setInterval(refresh, INTERVAL_MS);
})();
