/* The dashboard's revenue chart (SPEC §14): Chart.js (sales/vendor/chart.umd.js, loaded before
   this file) draws the per-day figures the page carries in #dash-revenue-data (json_script), the
   same figures the table under the chart lists. No inline script: the CSP allows only 'self'. */
(function () {
  "use strict";
  function draw() {
    var canvas = document.getElementById("dash-revenue-chart");
    var source = document.getElementById("dash-revenue-data");
    if (!canvas || !source || typeof window.Chart === "undefined") { return; }
    var data = JSON.parse(source.textContent);
    var style = getComputedStyle(document.documentElement);
    var fg = style.getPropertyValue("--body-quiet-color").trim() || "#666";
    var bar = style.getPropertyValue("--primary").trim() || "#79aec8";
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: "Revenue (" + data.currency + ")", data: data.amounts.map(Number),
                     backgroundColor: bar, borderRadius: 2 }]
      },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { display: false },
          tooltip: { callbacks: { label: function (ctx) { return data.amounts[ctx.dataIndex] + " " + data.currency; } } }
        },
        scales: {
          x: { ticks: { color: fg, maxRotation: 0, autoSkip: true,
                        callback: function (value) { return String(this.getLabelForValue(value)).slice(5); } },
               grid: { display: false } },
          y: { beginAtZero: true, ticks: { color: fg } }
        }
      }
    });
    canvas.setAttribute("data-drawn", "true");
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
