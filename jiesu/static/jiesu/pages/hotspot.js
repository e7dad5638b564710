// hotspot: moved out of the template so the page runs under the Content Security Policy (no inline scripts).
var TEXT = JSON.parse(document.getElementById("page-text").textContent);
window.addEventListener("DOMContentLoaded", function () {
  var c = JSON.parse(document.getElementById("track-data").textContent);
  echarts.init(document.getElementById("track"), null, {renderer: "svg"}).setOption({animation: false, tooltip: {trigger: "axis"},
    legend: {data: [TEXT["heat"], TEXT["last 7 days"]]}, grid: {left: 40, right: 40, top: 30, bottom: 30},
    xAxis: {type: "category", data: c.at}, yAxis: [{type: "value"}, {type: "value", minInterval: 1}],
    series: [{name: TEXT["heat"], type: "line", data: c.heat, itemStyle: {color: "#b4232a"}},
             {name: TEXT["last 7 days"], type: "bar", yAxisIndex: 1, data: c.volume, itemStyle: {color: "#8c959f"}}]});
});
