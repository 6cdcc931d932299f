/* Sinergi's few page behaviours, in a file instead of inline handlers so the
   Content-Security-Policy can refuse every inline script. Listeners sit on the
   document, so markup that htmx swaps in later works the same way. */
(function () {
  "use strict";

  // The menu button on narrow screens: <button data-toggle-nav aria-controls="nav">.
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-toggle-nav]");
    if (!button) return;
    var nav = document.getElementById(button.getAttribute("aria-controls"));
    if (!nav) return;
    var open = nav.classList.toggle("open");
    button.setAttribute("aria-expanded", open ? "true" : "false");
  });

  // A choice that applies at once (the language): <select data-submit-on-change>.
  document.addEventListener("change", function (event) {
    var select = event.target.closest("[data-submit-on-change]");
    if (select && select.form) select.form.submit();
  });

  // A removal that asks first: <form data-confirm="Remove this entry?">.
  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-confirm]");
    if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
  });
})();
