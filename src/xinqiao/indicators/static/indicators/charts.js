// Indicator charts: trend (line), sub-regions (sorted bars) and, where a boundary file exists, a
// choropleth map of the sub-regions. The numbers come from the page's json_script block
// (#indicator-chart-data); the tables on the page show the same figures. No inline scripts or
// styles: the CSP allows only same-origin files, so tooltips are drawn on the canvas
// (renderMode "richText") and boundaries are fetched from /static/ (connect-src 'self').
(function () {
  "use strict";

  var COLOURS = { met: "#198754", near: "#ffc107", missed: "#dc3545", none: "#adb5bd" };

  function shown(data, value) {
    if (value === null || value === undefined) { return data.labels.noData; }
    return Number(value).toFixed(data.digits) + data.unit;
  }

  function done(chart, el) {
    chart.on("finished", function () { el.setAttribute("data-rendered", "1"); });
  }

  function goTo(params) {
    if (params.data && params.data.url) { window.location.href = params.data.url; }
  }

  function targetLine(data, axis) {
    if (data.target === null || data.target === undefined) { return undefined; }
    var point = {};
    point[axis] = data.target;
    point.name = data.labels.target;
    return { symbol: "none", silent: true, lineStyle: { color: "#dc3545", type: "dashed" },
             label: { position: "insideEndTop", formatter: data.labels.target + " " + shown(data, data.target) },
             data: [point] };
  }

  function trend(el, data) {
    var chart = window.echarts.init(el);
    done(chart, el);
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: "axis", renderMode: "richText",
                 valueFormatter: function (v) { return shown(data, v); } },
      grid: { left: 8, right: 24, bottom: 8, top: 32, containLabel: true },
      xAxis: { type: "category", data: data.trend.periods, axisLabel: { hideOverlap: true } },
      yAxis: { type: "value", name: data.unit, scale: true },
      series: [{ name: data.indicator, type: "line", data: data.trend.values, connectNulls: false,
                 symbolSize: 8, markLine: targetLine(data, "yAxis") }]
    });
    return chart;
  }

  function bars(el, data) {
    var rows = data.subregions;
    // One bar per sub-region: a county with 30 townships needs a taller box (CSSOM, allowed by the CSP).
    el.style.height = Math.max(300, rows.length * 26 + 48) + "px";
    var chart = window.echarts.init(el);
    done(chart, el);
    chart.setOption({
      aria: { enabled: true },
      tooltip: { trigger: "item", renderMode: "richText",
                 formatter: function (p) { return p.name + ": " + shown(data, p.value); } },
      grid: { left: 8, right: 40, bottom: 8, top: 16, containLabel: true },
      yAxis: { type: "category", inverse: true, data: rows.map(function (r) { return r.name; }),
               axisLabel: { interval: 0 } },
      xAxis: { type: "value", name: data.unit },
      series: [{ type: "bar", name: data.indicator, cursor: "pointer",
                 label: { show: true, position: "right",
                          formatter: function (p) { return p.value === null ? "" : shown(data, p.value); } },
                 data: rows.map(function (r) {
                   return { value: r.value, url: r.url, itemStyle: { color: COLOURS[r.status] || COLOURS.none } };
                 }),
                 markLine: targetLine(data, "xAxis") }]
    });
    chart.on("click", goTo);
    return chart;
  }

  function choropleth(el, data) {
    var names = {};
    var values = [];
    data.subregions.forEach(function (r) {
      names[r.code] = r.name;
      if (r.value !== null) { values.push(r.value); }
    });
    var chart = window.echarts.init(el);
    chart.showLoading();
    return window.fetch(data.map.url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error("boundaries: HTTP " + response.status); }
      return response.json();
    }).then(function (geo) {
      window.echarts.registerMap(data.map.name, geo);
      chart.hideLoading();
      done(chart, el);
      var low = values.length ? Math.min.apply(null, values) : 0;
      var high = values.length ? Math.max.apply(null, values) : 1;
      var scale = ["#dc3545", "#ffc107", "#198754"];
      if (data.direction === "lower") { scale = scale.slice().reverse(); }
      chart.setOption({
        aria: { enabled: true },
        tooltip: { trigger: "item", renderMode: "richText",
                   formatter: function (p) {
                     return (names[p.name] || p.name) + ": " + shown(data, isNaN(p.value) ? null : p.value);
                   } },
        visualMap: { type: "continuous", min: low, max: high === low ? low + 1 : high, calculable: true,
                     orient: "horizontal", left: "center", bottom: 0, inRange: { color: scale },
                     formatter: function (v) { return shown(data, v); } },
        series: [{ type: "map", map: data.map.name, nameProperty: "code", roam: false, cursor: "pointer",
                   label: { show: true, fontSize: 10, formatter: function (p) { return names[p.name] || ""; } },
                   itemStyle: { areaColor: "#e9ecef", borderColor: "#6c757d" },
                   data: data.subregions.map(function (r) {
                     return { name: r.code, value: r.value === null ? NaN : r.value, url: r.url };
                   }) }]
      });
      chart.on("click", goTo);
      return chart;
    }).catch(function (error) {
      chart.hideLoading();
      el.setAttribute("data-error", String(error));
      var note = document.getElementById("map-unavailable");
      if (note) { note.hidden = false; }
      el.hidden = true;
      return null;
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var source = document.getElementById("indicator-chart-data");
    if (!source || !window.echarts) { return; }
    var data = JSON.parse(source.textContent);
    var charts = [];
    var el = document.getElementById("chart-trend");
    if (el) { charts.push(trend(el, data)); }
    el = document.getElementById("chart-bars");
    if (el && data.subregions.length) { charts.push(bars(el, data)); }
    el = document.getElementById("chart-map");
    if (el && data.map) {
      choropleth(el, data).then(function (chart) { if (chart) { charts.push(chart); } });
    }
    window.addEventListener("resize", function () {
      charts.forEach(function (chart) { chart.resize(); });
    });
  });
})();
