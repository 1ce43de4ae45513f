// The error page's "Go back" link (no inline script anywhere: the CSP allows /static only).
(function () {
  "use strict";

  // "Go back" on the error page: back in history when there is one, else the link's own page.
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[data-go-back]") : null;
    if (link && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
    }
  });
})();
