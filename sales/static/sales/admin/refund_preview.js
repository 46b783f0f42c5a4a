/* Refund form: live preview of the totals before saving.
 *
 * Posts the form as it is to the preview endpoint (refund_preview: the refund's own plan
 * function, writes nothing) and shows the totals, or the message the refund would refuse
 * with. Without JavaScript the "Preview totals" button renders the same preview server-side.
 * #refund-preview carries data-state="ok|refused|error|idle" and aria-busy while a request
 * is in flight; only the answer to the latest request is shown.
 */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    var form = document.getElementById("refund-form");
    var box = document.getElementById("refund-preview");
    if (!form || !box) { return; }
    var url = form.getAttribute("data-preview-url");
    var message = document.getElementById("refund-preview-message");
    var cells = box.querySelectorAll("[data-total]");
    var latest = 0;
    var timer = null;

    function show(state, data) {
      cells.forEach(function (cell) {
        var name = cell.getAttribute("data-total");
        if (state === "ok") {
          // no "−0.00": a sign only on an amount that is not zero
          var sign = Number(data.totals[name]) ? (cell.getAttribute("data-sign") || "") : "";
          cell.textContent = sign + data.totals[name] + " " + data.currency;
        } else {
          cell.textContent = "—";
        }
      });
      message.hidden = state === "ok";
      message.textContent = state === "ok" ? "" : data.message;
      box.setAttribute("data-state", state);
    }

    function update() {
      var mine = ++latest;
      box.setAttribute("aria-busy", "true");
      fetch(url, {method: "POST", body: new FormData(form), credentials: "same-origin",
                  headers: {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}})
        .then(function (response) { return response.json(); })
        .then(function (data) {
          if (mine !== latest) { return; }
          show(data.ok ? "ok" : "refused", data);
          box.removeAttribute("aria-busy");
        })
        .catch(function () {
          if (mine !== latest) { return; }
          show("error", {message: "The preview is unavailable right now; the refund is still checked when you save."});
          box.removeAttribute("aria-busy");
        });
    }

    function schedule() {
      box.setAttribute("aria-busy", "true");
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 200);
    }

    form.addEventListener("input", schedule);
    form.addEventListener("change", schedule);
    var button = document.getElementById("refund-preview-button");
    if (button) { button.hidden = true; }  // the preview is live; the button is for browsers without JavaScript
    update();
  });
})();
