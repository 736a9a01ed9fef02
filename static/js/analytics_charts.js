// Analytics dashboards: draw every <canvas data-chart="ID"> with Chart.js from
// the JSON the page put in <script type="application/json" id="ID"> (json_script:
// the Content-Security-Policy allows no inline script). spec.unit says what the
// y axis measures (analytics/admin/charts.py): a "count" axis gets whole-number
// ticks only, so a chart of two complaints never reads 0.5 or 1.5.
(function () {
  "use strict";
  if (typeof Chart === "undefined") {
    return;
  }
  var COLOURS = ["#417690", "#e39a2d", "#5b9e4d", "#b54a4a", "#7d5ba6"];
  window.analyticsCharts = {};
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.dataset.chart);
    if (!source) {
      return;
    }
    var spec = JSON.parse(source.textContent);
    var datasets = spec.datasets.map(function (set, i) {
      var colour = COLOURS[i % COLOURS.length];
      return {
        label: set.label,
        data: set.data,
        borderColor: colour,
        backgroundColor: spec.type === "line" ? colour + "33" : colour,
        fill: spec.type === "line",
        pointRadius: spec.labels.length > 60 ? 0 : 2,
        tension: 0.2,
      };
    });
    window.analyticsCharts[canvas.id] = new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          y: {
            beginAtZero: true,
            ticks: spec.unit === "count" ? { precision: 0 } : {},
          },
        },
      },
    });
  });
})();
