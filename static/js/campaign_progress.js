// Live progress of a campaign run on its admin page: polls the progress URL
// every 2 seconds while the campaign is sending, and updates the numbers.
(function () {
  var box = document.getElementById("campaign-progress");
  if (!box || box.dataset.status !== "sending") {
    return;
  }
  function update() {
    fetch(box.dataset.url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        box.querySelectorAll("[data-field]").forEach(function (cell) {
          if (data[cell.dataset.field] !== undefined) {
            cell.textContent = data[cell.dataset.field];
          }
        });
        if (data.status === "sending") {
          window.setTimeout(update, 2000);
        } else {
          window.location.reload();
        }
      })
      .catch(function () { window.setTimeout(update, 5000); });
  }
  window.setTimeout(update, 2000);
})();
