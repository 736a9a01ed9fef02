// Progress bars: width from data-width-percent. Set from a file, not a style
// attribute, because the strict Content-Security-Policy refuses inline styles.
document.querySelectorAll("[data-width-percent]").forEach(function (bar) {
  bar.style.width = Number(bar.dataset.widthPercent) + "%";
});
