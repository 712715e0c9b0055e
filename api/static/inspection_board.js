/* The inspection board's charts (Apache ECharts, vendored). Every figure is also in the page's tables: without
   this file or without JavaScript the board loses pictures, not numbers. A rate with nothing due is null and
   draws no bar, never a 100 % one. */
(function () {
  "use strict";
  var rates = function (el, names, rect, recheck) {
    if (!el) return;
    var chart = window.echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      animation: false,
      tooltip: { trigger: "axis" },
      legend: { data: ["整改率", "回头看率"], top: 0 },
      grid: { left: 40, right: 16, top: 36, bottom: 60 },
      xAxis: { type: "category", data: names, axisLabel: { interval: 0, rotate: names.length > 6 ? 30 : 0 } },
      yAxis: { type: "value", name: "%", max: 100 },
      series: [
        { name: "整改率", type: "bar", data: rect },
        { name: "回头看率", type: "bar", data: recheck }
      ]
    });
    window.addEventListener("resize", function () { chart.resize(); });
  };
  document.addEventListener("DOMContentLoaded", function () {
    var holder = document.getElementById("inspection-data");
    if (!holder || !window.echarts) return;
    var d = JSON.parse(holder.textContent);
    rates(document.getElementById("chart-district"), d.districts, d.district_rect, d.district_recheck);
    rates(document.getElementById("chart-domain"), d.domains, d.domain_rect, d.domain_recheck);
    var units = document.getElementById("chart-units");
    if (units) {
      var chart = window.echarts.init(units, null, { renderer: "svg" });
      chart.setOption({
        animation: false,
        tooltip: { trigger: "axis" },
        legend: { data: ["当前逾期", "曾逾期"], top: 0 },
        grid: { left: 120, right: 16, top: 36, bottom: 24 },
        xAxis: { type: "value", minInterval: 1 },
        yAxis: { type: "category", data: d.units.slice().reverse() },
        series: [
          { name: "当前逾期", type: "bar", data: d.unit_overdue_now.slice().reverse(), itemStyle: { color: "#c62828" } },
          { name: "曾逾期", type: "bar", data: d.unit_overdue_ever.slice().reverse(), itemStyle: { color: "#f2a900" } }
        ]
      });
      window.addEventListener("resize", function () { chart.resize(); });
    }
  });
})();
