/* Create Order wizard: small progressive enhancements. Every step works without JavaScript. */
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") { fn(); } else { document.addEventListener("DOMContentLoaded", fn); }
  }

  ready(function () {
    // Address book: picking a saved address fills the fields; typing in a field makes it a new address.
    var bookData = document.getElementById("address-book");
    var book = bookData ? JSON.parse(bookData.textContent) : [];
    document.querySelectorAll("[data-address-prefix]").forEach(function (block) {
      var prefix = block.getAttribute("data-address-prefix");
      var select = block.querySelector("select[name='" + prefix + "-book']");
      var fields = block.querySelectorAll("[data-address-field]");
      if (!select) { return; }
      select.addEventListener("change", function () {
        var id = parseInt(select.value, 10);
        var entry = book.find(function (a) { return a.id === id; });
        if (!entry) { return; }
        fields.forEach(function (input) { input.value = entry[input.getAttribute("data-address-field")] || ""; });
      });
      fields.forEach(function (input) {
        input.addEventListener("input", function () { select.value = ""; });
      });
    });

    // Shipping address fields only when "a different shipping address" is chosen.
    var modeInputs = document.querySelectorAll("input[name='shipping_mode']");
    var shippingFields = document.getElementById("shipping-fields");
    function syncMode() {
      if (!shippingFields) { return; }
      var checked = document.querySelector("input[name='shipping_mode']:checked");
      shippingFields.hidden = !checked || checked.value !== "other";
    }
    modeInputs.forEach(function (input) { input.addEventListener("change", syncMode); });
    syncMode();

    // Choosing a pickup location chooses pickup.
    var location = document.getElementById("pickup-location");
    if (location) {
      location.addEventListener("change", function () {
        var radio = document.querySelector("input[name='code'][value='pickup']");
        if (radio) { radio.checked = true; }
      });
    }
  });
})();
