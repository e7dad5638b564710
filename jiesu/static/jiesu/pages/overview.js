// overview: moved out of the template so the page runs under the Content Security Policy (no inline scripts).
var TEXT = JSON.parse(document.getElementById("page-text").textContent);
window.addEventListener("DOMContentLoaded", function () {
  var data = JSON.parse(document.getElementById("overview-data").textContent);
  var T = {today: TEXT["today"], yesterday: TEXT["yesterday"]};
  var opts = {renderer: "svg", locale: document.documentElement.lang.indexOf("zh") === 0 ? "ZH" : "EN"};
  jiesuDistrictMap(document.getElementById("map"), data.districts, "open", opts);
  if (data.focus) jiesuStreetChart(document.getElementById("streets"), data.streets, "open", opts);
  var hours = Array.from({length: 24}, function (_, i) { return i + ":00"; });
  echarts.init(document.getElementById("hours"), null, opts).setOption({
    animation: false, tooltip: {trigger: "axis"}, legend: {top: 0, data: [T.today, T.yesterday]},
    grid: {left: 40, right: 20, top: 40, bottom: 30},
    xAxis: {type: "category", data: hours}, yAxis: {type: "value", minInterval: 1},
    series: [{name: T.today, type: "bar", data: data.hours.today, itemStyle: {color: "#b4232a"}},
             {name: T.yesterday, type: "line", data: data.hours.yesterday, itemStyle: {color: "#8c959f"}}]
  });
  echarts.init(document.getElementById("states"), null, opts).setOption({
    animation: false, tooltip: {}, grid: {left: 150, right: 30, top: 10, bottom: 30},
    xAxis: {type: "value", minInterval: 1}, yAxis: {type: "category", data: data.states.map(function (s) { return s[0]; })},
    series: [{type: "bar", data: data.states.map(function (s) { return s[1]; }), itemStyle: {color: "#0969da"}, label: {show: true, position: "right"}}]
  });
});
