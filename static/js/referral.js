// Referrals page: copy the invitation link. A file, not an inline script, so the
// strict Content-Security-Policy holds.
document.querySelectorAll("[data-copy-target]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copyTarget);
    var done = function () {
      button.textContent = button.dataset.copiedLabel;
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done);
    } else {
      field.select();
      document.execCommand("copy");
      done();
    }
  });
});
