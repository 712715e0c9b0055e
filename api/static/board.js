/* The board's charts (Apache ECharts, vendored). Every figure is also in the page's tables: without this file
   or without JavaScript the board loses pictures, not numbers. Tables marked data-sortable sort by a click on
   a column head. */
(function () {
  "use strict";
  var draw = function () {
    var holder = document.getElementById("board-data");
    if (!holder || !window.echarts) return;
    var d = JSON.parse(holder.textContent);
    var trend = document.getElementById("chart-trend");
    if (trend) {
      var chart = window.echarts.init(trend, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: ["平均办结天数", "改革前"], top: 0 },
        grid: { left: 40, right: 16, top: 36, bottom: 40 },
        xAxis: { type: "category", data: d.weeks },
        yAxis: { type: "value", name: "天" },
        series: [
          { name: "平均办结天数", type: "line", data: d.average, connectNulls: true, symbolSize: 6 },
          { name: "改革前", type: "line", data: d.weeks.map(function () { return d.baseline; }),
            lineStyle: { type: "dashed" }, symbol: "none" }
        ]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    }
    var heat = document.getElementById("chart-heat");
    if (heat) {
      var max = d.heat.reduce(function (m, x) { return Math.max(m, x[2]); }, 1);
      var hc = window.echarts.init(heat, null, { renderer: "svg" });
      hc.setOption({
        animation: false,
        tooltip: { position: "top" },
        grid: { left: 120, right: 16, top: 16, bottom: 60 },
        xAxis: { type: "category", data: ["绿码", "黄码", "红码"] },
        yAxis: { type: "category", data: d.heat_rows },
        visualMap: { min: 0, max: max, calculable: false, orient: "horizontal", left: "center", bottom: 0,
                     inRange: { color: ["#f4f5f7", "#f2c200", "#c62828"] } },
        series: [{ type: "heatmap", data: d.heat, label: { show: true } }]
      });
      window.addEventListener("resize", function () { hc.resize(); });
    }
  };
  var sortable = function (table) {
    table.querySelectorAll("thead th").forEach(function (th, index) {
      th.tabIndex = 0;
      th.setAttribute("aria-sort", "none");
      var sort = function () {
        var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
        var up = th.getAttribute("aria-sort") !== "ascending";
        var value = function (row) {
          var text = row.cells[index] ? row.cells[index].textContent.trim() : "";
          var n = parseFloat(text.replace("%", ""));
          return isNaN(n) ? text : n;
        };
        rows.sort(function (a, b) {
          var x = value(a), y = value(b);
          var c = (typeof x === "number" && typeof y === "number") ? x - y : String(x).localeCompare(String(y), "zh");
          return up ? c : -c;
        });
        rows.forEach(function (row) { body.appendChild(row); });
        table.querySelectorAll("thead th").forEach(function (h) { h.setAttribute("aria-sort", "none"); });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
      };
      th.addEventListener("click", sort);
      th.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sort(); } });
    });
  };
  document.addEventListener("DOMContentLoaded", function () {
    draw();
    document.querySelectorAll("table[data-sortable]").forEach(sortable);
  });
})();
