// dashboard: moved out of the template so the page runs under the Content Security Policy (no inline scripts).
var TEXT = JSON.parse(document.getElementById("page-text").textContent);
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("dashboard");
  var T = {actual: TEXT["requests"], expected: TEXT["forecast"], band: TEXT["80% band"], none: TEXT["No hotspot now."], notopic: TEXT["No topic in progress."]};
  var opts = {renderer: "svg", locale: document.documentElement.lang.indexOf("zh") === 0 ? "ZH" : "EN"};
  var theme = document.body.classList.contains("screen") ? "dark" : null;  // the big screen (?screen=1)
  var charts = {channels: echarts.init(document.getElementById("channels"), theme, opts),
    categories: echarts.init(document.getElementById("categories"), theme, opts), forecast: echarts.init(document.getElementById("forecast"), theme, opts)};
  var metric = document.getElementById("metric"), data = JSON.parse(document.getElementById("dashboard-data").textContent);
  function esc(s) { var d = document.createElement("div"); d.textContent = s == null ? "" : String(s); return d.innerHTML; }
  function drawMap() {
    jiesuDistrictMap(document.getElementById("map"), data.districts, metric.value, opts);
    var streets = document.getElementById("streets");  // a district's dashboard: its streets, shaded by the same metric
    if (streets && data.focus) jiesuStreetChart(streets, data.streets, metric.value === "satisfaction" ? "open" : metric.value, opts);
  }
  function draw() {
    drawMap();
    charts.channels.setOption({animation: false, tooltip: {trigger: "item"}, series: [{type: "pie", radius: ["35%", "65%"], data: data.channels.filter(function (c) { return c[1] > 0; }).map(function (c) { return {name: c[0], value: c[1]}; })}]}, {replaceMerge: ["series"]});
    charts.categories.setOption({animation: false, tooltip: {}, grid: {left: 90, right: 30, top: 10, bottom: 30}, xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", inverse: true, data: data.categories.map(function (c) { return c[0]; })}, series: [{type: "bar", data: data.categories.map(function (c) { return c[1]; }), itemStyle: {color: "#0969da"}, label: {show: true, position: "right"}}]});
    var f = data.forecast;
    charts.forecast.setOption({animation: false, tooltip: {trigger: "axis"}, legend: {top: 0, data: [T.actual, T.expected]}, grid: {left: 40, right: 20, top: 30, bottom: 30},
      xAxis: {type: "category", data: f.days}, yAxis: {type: "value", minInterval: 1},
      series: [{name: T.actual, type: "bar", data: f.actual, itemStyle: {color: "#8c959f"}},
        {name: "low", type: "line", data: f.low, stack: "band", lineStyle: {opacity: 0}, symbol: "none", tooltip: {show: false}},
        {name: T.band, type: "line", data: f.high.map(function (h, i) { return h == null || f.low[i] == null ? null : h - f.low[i]; }), stack: "band", lineStyle: {opacity: 0}, areaStyle: {color: "rgba(180,35,42,0.15)"}, symbol: "none"},
        {name: T.expected, type: "line", data: f.expected, itemStyle: {color: "#b4232a"}}]});
    var set = function (id, v) { document.getElementById(id).textContent = v; };
    set("updated", data.at); set("h-today", data.headline.today); set("h-open", data.headline.open); set("h-overdue", data.headline.overdue);
    set("h-hotspots", data.headline.hotspots); set("h-proposals", data.headline.proposals);
    document.getElementById("hotspots").innerHTML = data.hotspots.length ? data.hotspots.map(function (h) {
      return "<tr><td><a href=\"" + TEXT["url:hotspot-list"] + "" + h.id + "/\">" + esc(h.label) + "</a></td><td>" + esc(h.place) + "</td><td>" + h.size + "</td><td>" + h.heat + "</td><td>" + esc(h.state) + "</td></tr>"; }).join("")
      : "<tr><td colspan=\"5\" class=\"muted\">" + esc(T.none) + "</td></tr>";
    document.getElementById("topics").innerHTML = data.topics.length ? data.topics.map(function (t) {
      return "<tr><td><a href=\"" + TEXT["url:topic-list"] + "" + t.id + "/\">" + esc(t.title) + "</a></td><td>" + t.last_30 + "</td><td>" + t.baseline + "</td><td>" + (t.change == null ? "—" : t.change + "%") + "</td><td>" + esc(t.tasks) + "</td></tr>"; }).join("")
      : "<tr><td colspan=\"5\" class=\"muted\">" + esc(T.notopic) + "</td></tr>";
  }
  metric.addEventListener("change", drawMap);
  draw();
  function refresh() {
    fetch(root.dataset.url, {headers: {"Accept": "application/json"}, credentials: "same-origin"}).then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (fresh) { data = fresh; draw(); root.dataset.refreshed = String(Number(root.dataset.refreshed || 0) + 1); }).catch(function () {});
  }
  window.jiesuDashboardRefresh = refresh;
  setInterval(refresh, Number(root.dataset.refresh) * 1000);
});
