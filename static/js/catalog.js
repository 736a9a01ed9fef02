// Rewards catalog: ask before spending points, then disable the button so a
// second click sends nothing (the form's idempotency key makes a resend harmless
// anyway). A file, not an inline script, so a strict Content-Security-Policy holds.
document.querySelectorAll("form.redeem-form").forEach(function (form) {
  form.addEventListener("submit", function (event) {
    if (!window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      return;
    }
    form.querySelector("button[type=submit]").disabled = true;
  });
});
