// Rewards catalog: ask before spending points in the #redeem-confirm dialog
// (reward, cost, balance after, from the form's data attributes), then disable
// the button so a second click sends nothing (the form's idempotency key makes
// a resend harmless anyway). Without JavaScript the form simply posts. A file,
// not an inline script, so the strict Content-Security-Policy holds.
(function () {
  "use strict";
  var dialog = document.getElementById("redeem-confirm");
  var modal =
    dialog && typeof bootstrap !== "undefined"
      ? bootstrap.Modal.getOrCreateInstance(dialog)
      : null;
  var pending = null;

  document.querySelectorAll("form.redeem-form").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (modal && form.dataset.confirmed !== "1") {
        event.preventDefault();
        pending = form;
        ["reward", "cost", "after"].forEach(function (field) {
          dialog.querySelector("[data-field=" + field + "]").textContent =
            form.dataset[field];
        });
        modal.show();
        return;
      }
      form.querySelector("button[type=submit]").disabled = true;
    });
  });

  if (modal) {
    var confirm = dialog.querySelector("[data-testid=redeem-confirm-button]");
    confirm.addEventListener("click", function () {
      if (!pending) {
        return;
      }
      confirm.disabled = true;
      pending.dataset.confirmed = "1";
      pending.requestSubmit();
    });
    dialog.addEventListener("hidden.bs.modal", function () {
      if (pending && pending.dataset.confirmed !== "1") {
        pending = null;
      }
    });
  }
})();
