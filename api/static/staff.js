/* Staff console, progressive enhancement only: every page and form works without it. Countdowns tick, and a
   suggestion chosen in the triage queue fills the category and unit fields. */
(function () {
  "use strict";
  var pad = function (n) { return String(n); };
  var tick = function () {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("data-due")) - now) / 1000);
      var out = el.querySelector(".left");
      if (!out) return;
      if (left < 0) { out.textContent = "0分"; el.classList.add("countdown-late"); return; }
      out.textContent = pad(Math.floor(left / 86400)) + "天" + pad(Math.floor(left % 86400 / 3600)) + "小时" +
        pad(Math.floor(left % 3600 / 60)) + "分";
      if (left < 86400) el.classList.add("countdown-soon");
    });
  };
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    window.setInterval(tick, 30000);
    document.querySelectorAll("input[type=radio][data-fills]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        var id = radio.getAttribute("data-fills"), parts = radio.value.split("|");
        var cat = document.getElementById("cat-" + id), unit = document.getElementById("unit-" + id);
        if (cat) cat.value = parts[0];
        if (unit) unit.value = parts[1];
      });
    });
  });
})();
