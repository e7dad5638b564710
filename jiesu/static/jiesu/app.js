// jiesu: small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // <select data-autosubmit>: choosing a value submits its form (instead of an inline onchange handler).
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-autosubmit]") && e.target.form) e.target.form.submit();
  });
  // Buttons that fill a form field: <button data-fill="#id_street_code" data-value="110105001">
  document.addEventListener("click", function (e) {
    var b = e.target.closest("[data-fill]");
    if (!b) return;
    e.preventDefault();
    var field = document.querySelector(b.getAttribute("data-fill"));
    if (!field) return;
    field.value = b.getAttribute("data-value");
    field.dispatchEvent(new Event("change", { bubbles: true }));
    field.focus();
  });
  // After the intake panel refreshes: an unambiguous place (or a category proposal above the confidence
  // threshold) fills its empty field (shown, and editable),
  // so the keyboard path never has to leave the form. Ambiguous places are only listed.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("[data-autofill]").forEach(function (b) {
      var field = document.querySelector(b.getAttribute("data-fill"));
      if (field && !field.value) {
        field.value = b.getAttribute("data-value");
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });
  // Live countdowns: <span class="countdown" data-due="ISO">
  function tick() {
    var now = Date.now();
    document.querySelectorAll(".countdown[data-due]").forEach(function (el) {
      var left = Math.floor((Date.parse(el.getAttribute("data-due")) - now) / 1000);
      var late = left < 0;
      left = Math.abs(left);
      var d = Math.floor(left / 86400), h = Math.floor((left % 86400) / 3600), m = Math.floor((left % 3600) / 60);
      var zh = (document.documentElement.lang || "").indexOf("zh") === 0;
      var text = (d ? d + (zh ? "天" : "d ") : "") + h + (zh ? "小时" : "h ") + m + (zh ? "分" : "m");
      el.textContent = late ? (zh ? "已超期 " : "overdue by ") + text : (zh ? "剩余 " : "") + text + (zh ? "" : " left");
      el.classList.toggle("overdue", late);
      el.classList.toggle("soon", !late && left < 86400);
    });
  }
  tick();
  setInterval(tick, 30000);
  // The district map (ECharts + the committed GeoJSON), shared by the overview and the city dashboard.
  // `el` carries data-geo (the GeoJSON URL); `rows` are {name, code, <key>: number|null}; a higher value is worse,
  // except for "satisfaction". Redrawing with new rows reuses the chart. Sets el.dataset.map = "ready".
  var geo = null;
  window.jiesuDistrictMap = function (el, rows, key, opts) {
    function draw() {
      var chart = echarts.getInstanceByDom(el) || echarts.init(el, null, opts);
      var values = rows.map(function (d) { return {name: d.name, value: d[key] == null ? null : d[key]}; });
      var max = Math.max.apply(null, values.map(function (v) { return v.value || 0; }).concat([1]));
      var good = key === "satisfaction";
      chart.setOption({animation: false, tooltip: {trigger: "item", formatter: function (p) {
          var name = document.createElement("span"); name.textContent = p.name;
          return name.innerHTML + ": " + (p.value == null || isNaN(p.value) ? "—" : p.value); }},
        visualMap: {min: good ? 60 : 0, max: good ? 100 : max, calculable: true, left: 10, bottom: 10,
          inRange: {color: good ? ["#b4232a", "#d4a72c", "#2da44e"] : ["#eef6ff", "#7cb5ec", "#b4232a"]}},
        series: [{type: "map", map: "beijing", roam: false, label: {show: true, fontSize: 10}, data: values}]},
        {replaceMerge: ["series"]});
      el.dataset.map = "ready";
    }
    if (geo) { draw(); return; }
    fetch(el.dataset.geo).then(function (r) { return r.json(); }).then(function (g) {
      if (!geo) { geo = g; echarts.registerMap("beijing", g); }
      draw();
    });
  };
})();
