// Small progressive enhancements. No inline scripts anywhere: the CSP forbids them.
(function () {
  "use strict";
  // Confirm destructive actions: <form data-confirm="Are you sure?">
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement && form.dataset.confirm) {
      if (!window.confirm(form.dataset.confirm)) {
        event.preventDefault();
      }
    }
  }, true);
  // Auto-submit filter forms when a select changes: <form data-autosubmit>
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el && el.form && el.form.dataset.autosubmit !== undefined && el.tagName === "SELECT") {
      if (el.form.requestSubmit) { el.form.requestSubmit(); } else { el.form.submit(); }
    }
  });
})();
