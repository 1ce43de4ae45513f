// Every page: ask before one-click actions, and fold the steward menu on a phone.
// A static file because the CSP allows scripts from /static only (dashboard/headers.py).
(function () {
  "use strict";

  // data-confirm="Revoke card C0DE0006?" on a submit button, or on its form: ask first, and
  // send nothing unless the answer is OK. Capture phase, so no other submit handler runs first.
  document.addEventListener("submit", function (event) {
    var form = event.target, button = event.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // The steward menu: on a narrow screen the links fold behind a "Menu" button (without this
  // script they simply wrap, so every page still works).
  document.addEventListener("DOMContentLoaded", function () {
    var button = document.querySelector("[data-menu-toggle]");
    if (!button) return;
    var nav = button.closest("nav");
    nav.classList.add("foldable");
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
  });
})();
