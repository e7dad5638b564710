// topic: moved out of the template so the page runs under the Content Security Policy (no inline scripts).
window.addEventListener("DOMContentLoaded", function () {
  var m = JSON.parse(document.getElementById("monthly-data").textContent);
  echarts.init(document.getElementById("monthly"), null, {renderer: "svg"}).setOption({animation: false, tooltip: {trigger: "axis"}, grid: {left: 40, right: 20, top: 10, bottom: 30},
    xAxis: {type: "category", data: m.map(function (r) { return r[0]; })}, yAxis: {type: "value", minInterval: 1},
    series: [{type: "bar", data: m.map(function (r) { return r[1]; }), itemStyle: {color: "#0969da"}}]});
});
