// The campaign figures chart: conversion and revenue per member by group,
// from the JSON the page embeds (no inline script: the CSP forbids it).
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("campaign-chart");
  var source = document.getElementById("campaign-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  if (!data) {
    return;
  }
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [
        { label: data.conversion_label, data: data.conversion, yAxisID: "y" },
        { label: data.revenue_label, data: data.revenue_per_member, yAxisID: "y1" },
      ],
    },
    options: {
      responsive: true,
      scales: {
        y: { beginAtZero: true, position: "left" },
        y1: { beginAtZero: true, position: "right", grid: { drawOnChartArea: false } },
      },
    },
  });
});
