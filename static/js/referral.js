// Referrals page: copy the invitation link. A file, not an inline script, so the
// strict Content-Security-Policy holds.
document.querySelectorAll("[data-copy-target]").forEach(function (button) {
  button.addEventListener("click", function () {
    var field = document.getElementById(button.dataset.copyTarget);
    var done = function () {
      button.textContent = button.dataset.copiedLabel;
    };
    // The link selected and copied the old way: where the Clipboard API is
    // missing, or refuses (a page without focus, a browser's policy).
    var byHand = function () {
      field.select();
      document.execCommand("copy");
      done();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(field.value).then(done, byHand);
    } else {
      byHand();
    }
  });
  // Offered once it works (hidden in the page): a tap before this script ran,
  // on a slow phone, did nothing.
  button.classList.remove("d-none");
});
