// The booking tablet: keep the card reader's field focused, sign out after idle time, and
// offer a number pad for the member number and PIN.
(function () {
  "use strict";

  // A USB keyboard-wedge reader "types" the UID and Enter into whatever has focus.
  function keepCardFieldFocused() {
    var card = document.getElementById("card-uid");
    if (!card) return;
    var typingElsewhere = function () {
      var active = document.activeElement;
      return active && active !== card && (active.tagName === "INPUT" || active.tagName === "BUTTON");
    };
    card.focus();
    document.addEventListener("pointerup", function () {
      window.setTimeout(function () { if (!typingElsewhere()) card.focus(); }, 0);
    });
  }

  // The server forgets an idle member too; this makes the page follow without a touch.
  function signOutWhenIdle() {
    var form = document.getElementById("leave-form");
    if (!form) return;
    var limit = parseInt(form.dataset.idleSeconds, 10) * 1000;
    var warning = form.querySelector(".idle-warning");
    var count = form.querySelector(".idle-count");
    var last = Date.now(), leaving = false;
    ["pointerdown", "keydown", "touchstart", "scroll"].forEach(function (kind) {
      document.addEventListener(kind, function () { last = Date.now(); }, { passive: true });
    });
    window.setInterval(function () {
      var left = limit - (Date.now() - last);
      warning.hidden = left > 20000;
      count.textContent = Math.max(0, Math.ceil(left / 1000));
      if (left <= 0 && !leaving) {
        leaving = true;
        form.elements.idle.value = "1";
        form.submit();
      }
    }, 1000);
  }

  // The number pad types into the member number, then (once it is filled in) the PIN; a tap
  // on either field makes it the one the pad types into. The tablet's own keyboard stays shut.
  function numberPad() {
    var pad = document.getElementById("numpad");
    if (!pad) return;
    var fields = [document.getElementById("number"), document.getElementById("pin")];
    var target = fields[0].value ? fields[1] : fields[0];
    function aim(field) {
      target = field;
      fields.forEach(function (f) { f.classList.toggle("target", f === field); });
    }
    fields.forEach(function (field) {
      field.setAttribute("inputmode", "none");
      field.addEventListener("focus", function () { aim(field); });
    });
    pad.addEventListener("click", function (event) {
      var key = event.target.closest("button[data-key]");
      if (!key) return;
      var name = key.dataset.key;
      if (name === "clear") target.value = "";
      else if (name === "back") target.value = target.value.slice(0, -1);
      else target.value += name;
    });
    pad.hidden = false;
    aim(target);
  }

  document.addEventListener("DOMContentLoaded", function () {
    keepCardFieldFocused();
    signOutWhenIdle();
    numberPad();
  });
})();
