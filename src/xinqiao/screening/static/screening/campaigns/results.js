// Campaign results: one stacked bar chart per scale (bands per class or department).
// The numbers come from a json_script block; the table under each chart shows the same counts.
// No inline scripts or styles: the CSP allows only same-origin files. Tooltips are drawn on the
// canvas (renderMode "richText"), so ECharts needs no HTML with style attributes.
(function () {
  "use strict";

  function draw(scale, label) {
    var el = document.getElementById("chart-" + scale.id);
    if (!el) { return null; }
    var chart = window.echarts.init(el);
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" }, renderMode: "richText" },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, bottom: 8, top: 40, containLabel: true },
      xAxis: { type: "category", data: scale.groups, axisLabel: { interval: 0, hideOverlap: true } },
      yAxis: { type: "value", name: label, minInterval: 1 },
      series: scale.series.map(function (s) {
        return { name: s.name, type: "bar", stack: "total", emphasis: { focus: "series" },
                 itemStyle: { color: s.colour }, data: s.data };
      })
    });
    return chart;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("chart-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = data.scales.map(function (scale) { return draw(scale, data.yAxis); }).filter(Boolean);
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  });
})();
