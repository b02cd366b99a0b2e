// JBT-planner: the only script. Pages work without it; it keeps the slot
// board current. Every few seconds it asks /board/stamp (a fingerprint
// without case data); only when that changed does it fetch the board
// fragment and swap it in, and it says so in a polite live region.
(function () {
  "use strict";
  var INTERVAL_MS = 5000;
  var board = document.getElementById("board");
  if (!board) { return; }
  var status = document.getElementById("board-status");

  function current() { return document.getElementById("board"); }

  function refresh() {
    var stamp = current().getAttribute("data-board-stamp");
    fetch("/board/stamp", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) {
        if (r.redirected || r.status === 401 || r.status === 403) {
          window.location.reload();
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (fresh) {
        if (fresh === null || fresh === stamp) { return null; }
        return fetch("/board/fragment" + window.location.search, { credentials: "same-origin", cache: "no-store" })
          .then(function (r) { return r.ok ? r.text() : null; });
      })
      .then(function (html) {
        if (!html) { return; }
        var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest("#board");
        if (focused) { return; } // never pull the board from under a keyboard user
        // nor from under someone ticking referrals to confirm
        if (current().querySelector("input[type=checkbox]:checked")) { return; }
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var next = holder.querySelector("#board");
        if (next) {
          current().replaceWith(next);
          if (status) { status.textContent = "Planbord bijgewerkt."; }
        }
      })
      .catch(function () {
        if (status) { status.textContent = "Verbinding verbroken; het planbord wordt niet bijgewerkt."; }
      });
  }

  window.setInterval(refresh, INTERVAL_MS);
})();
