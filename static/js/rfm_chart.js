// The RFM page's chart: members (bars) and net spend (line) per segment.
// Data comes from the page's json_script block; no inline script (CSP).
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("rfm-chart-data");
    var canvas = document.getElementById("rfm-chart");
    if (!source || !canvas || typeof window.Chart === "undefined") {
      return;
    }
    var data = JSON.parse(source.textContent);
    new window.Chart(canvas, {
      data: {
        labels: data.labels,
        datasets: [
          {
            type: "bar",
            label: data.membersLabel,
            data: data.members,
            backgroundColor: "rgba(13, 110, 253, 0.6)",
            yAxisID: "members",
          },
          {
            type: "line",
            label: data.revenueLabel,
            data: data.revenue,
            borderColor: "rgb(214, 51, 132)",
            backgroundColor: "rgb(214, 51, 132)",
            yAxisID: "revenue",
          },
        ],
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        scales: {
          // Members are counted: whole-number ticks only.
          members: {
            type: "linear",
            position: "left",
            beginAtZero: true,
            ticks: { precision: 0 },
          },
          revenue: {
            type: "linear",
            position: "right",
            beginAtZero: true,
            grid: { drawOnChartArea: false },
          },
        },
      },
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
