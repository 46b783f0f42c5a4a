/* Order Desk admin layout (SPEC §14): on screens narrower than 1600 px the nav sidebar starts
   collapsed, so the order list and the order page show every column at 1366 px. This only sets
   the default, before admin/js/nav_sidebar.js (deferred) reads it: once the user opens or closes
   the sidebar with the admin's own toggle, that choice is theirs and is remembered as before.
   A default set here is marked as such, so a wider screen later gets the admin's default back. */
(function () {
  "use strict";
  var KEY = "django.admin.navSidebarIsOpen";
  var AUTO = "orderdesk.navSidebarAuto";
  var narrow = window.innerWidth < 1600;
  try {
    var store = window.localStorage;
    var chosen = store.getItem(KEY);
    if (chosen === null && narrow) {
      store.setItem(KEY, "false");
      store.setItem(AUTO, "1");
    } else if (store.getItem(AUTO) === "1" && !narrow) {
      store.removeItem(KEY);
      store.removeItem(AUTO);
    }
    document.addEventListener("DOMContentLoaded", function () {
      var toggle = document.getElementById("toggle-nav-sidebar");
      if (toggle) {
        toggle.addEventListener("click", function () { store.removeItem(AUTO); });
      }
    });
  } catch (e) { /* storage disabled: the admin's default applies */ }
})();
