// Draws each region's inquiries per day by purpose and outcome (stacked bars) from the page's JSON, with Chart.js;
// the report's print button prints the page (its print style leaves out the navigation and the forms).
(function () {
  "use strict";
  function draw() {
    var data = JSON.parse(document.getElementById("chart-data").textContent);
    var palette = { allowed: ["#1f5fa8", "#4c8fd6", "#8fb8e8"], denied: ["#a30000", "#d65c5c", "#e8a0a0"] };
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var region = data[Number(canvas.dataset.chart)];
      var used = { allowed: 0, denied: 0 };
      var datasets = region.series.map(function (s) {
        var colours = palette[s.outcome] || palette.allowed;
        var colour = colours[used[s.outcome] % colours.length];
        used[s.outcome] = (used[s.outcome] || 0) + 1;
        return { label: s.purpose + " · " + s.outcome, data: s.counts, backgroundColor: colour, stack: "day" };
      });
      new Chart(canvas, {
        type: "bar",
        data: { labels: region.days, datasets: datasets },
        options: { animation: false, responsive: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
      });
    });
  }
  function ready() {
    draw();
    var print = document.querySelector("[data-print]");
    if (print) { print.addEventListener("click", function () { window.print(); }); }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", ready); } else { ready(); }
})();
