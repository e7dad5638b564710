// jiesu: small progressive enhancements; every page works without them.
(function () {
  "use strict";
  // <input type="checkbox" data-check-all="SELECTOR">: ticks or unticks every box the selector names.
  document.addEventListener("click", function (e) {
    var all = e.target.closest && e.target.closest("[data-check-all]");
    if (!all) return;
    document.querySelectorAll(all.getAttribute("data-check-all")).forEach(function (b) { b.checked = all.checked; });
  });
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
    delete field.dataset.autoValue;  // chosen by the operator: the assistant leaves it alone from now on
    field.classList.remove("autofilled");
    field.dispatchEvent(new Event("change", { bubbles: true }));
    field.focus();
  });
  // Irreversible actions ask first: <button data-confirm="…"> or <form data-confirm="…">.
  document.addEventListener("submit", function (e) {
    var b = e.submitter && e.submitter.closest("[data-confirm]");
    var text = (b && b.getAttribute("data-confirm")) || e.target.getAttribute("data-confirm");
    if (text && !window.confirm(text)) e.preventDefault();
  }, true);
  // A filter box over a tree or list: <input data-filter="#tree ul.tree">; leaves that match stay, with their parents.
  document.addEventListener("input", function (e) {
    var box = e.target.closest && e.target.closest("[data-filter]");
    if (!box) return;
    var root = document.querySelector(box.getAttribute("data-filter"));
    if (!root) return;
    var q = box.value.trim().toLowerCase();
    var items = Array.prototype.slice.call(root.querySelectorAll("li"));
    items.forEach(function (li) { li.hidden = false; });
    if (!q) return;
    items.reverse().forEach(function (li) {
      var own = (li.firstChild && li.firstChild.textContent || "").toLowerCase();
      var visibleChild = li.querySelector("li:not([hidden])");
      li.hidden = !(own.indexOf(q) >= 0 || visibleChild);
    });
  });
  // A header checkbox that ticks every row: <input type="checkbox" data-check-all="ids">
  document.addEventListener("change", function (e) {
    var all = e.target.closest && e.target.closest("[data-check-all]");
    if (!all) return;
    var form = all.closest("form") || document;
    form.querySelectorAll("input[type=checkbox][name='" + all.getAttribute("data-check-all") + "']").forEach(function (c) {
      c.checked = all.checked;
    });
  });
  // The unit picker: <details class="unit-picker" data-src="/units/picker/?pick=…" data-target="SELECTOR"
  // data-mode="replace|append">. Opening it loads the tree once (district → streets and departments, then the city's
  // departments and companies); the box filters by name or code; a click puts the unit's code into the target field
  // (replace, or append to a comma-separated list).
  document.addEventListener("toggle", function (e) {
    var picker = e.target;
    if (!picker.classList || !picker.classList.contains("unit-picker") || !picker.open || picker.dataset.loaded) return;
    picker.dataset.loaded = "1";
    fetch(picker.dataset.src, {credentials: "same-origin"}).then(function (r) { return r.text(); }).then(function (html) {
      picker.querySelector(".unit-tree").innerHTML = html;
      picker.dataset.ready = "1";
      var box = picker.querySelector(".unit-filter");
      if (box) box.focus();
    });
  }, true);
  function filterUnits(list, q) {
    function walk(li, shown) {
      var group = li.querySelector(":scope > details");
      if (!group) {
        var ok = !q || shown || li.textContent.toLowerCase().indexOf(q) >= 0;
        li.hidden = !ok;
        return ok && !!q && !shown;
      }
      var own = !!q && group.querySelector(":scope > summary").textContent.toLowerCase().indexOf(q) >= 0;
      var found = false;
      group.querySelectorAll(":scope > ul > li").forEach(function (c) { if (walk(c, shown || own)) found = true; });
      li.hidden = !!q && !(shown || own || found);
      group.open = !!q && found;
      return own || found;
    }
    list.querySelectorAll(":scope > li").forEach(function (li) { walk(li, false); });
  }
  document.addEventListener("input", function (e) {
    var box = e.target.closest && e.target.closest(".unit-filter");
    if (!box) return;
    var list = box.closest(".unit-tree").querySelector("ul.unit-tree-list");
    if (list) filterUnits(list, box.value.trim().toLowerCase());
  });
  document.addEventListener("keydown", function (e) {  // Enter in the filter box never submits the form
    if (e.key === "Enter" && e.target.closest && e.target.closest(".unit-filter")) e.preventDefault();
  });
  document.addEventListener("click", function (e) {
    var b = e.target.closest && e.target.closest("[data-pick]");
    if (!b) return;
    e.preventDefault();
    var picker = b.closest(".unit-picker"), field = picker && document.querySelector(picker.dataset.target);
    if (!field) return;
    var code = b.getAttribute("data-pick");
    if (picker.dataset.mode === "append") {
      var codes = field.value.split(/[,，\s]+/).filter(Boolean);
      if (codes.indexOf(code) < 0) codes.push(code);
      field.value = codes.join(",");
    } else {
      field.value = code;
      picker.open = false;
    }
    picker.querySelector(".picked").textContent = "· " + b.getAttribute("data-name");
    delete field.dataset.autoValue;  // chosen by a person: the assistant leaves it alone
    field.classList.remove("autofilled");
    field.dispatchEvent(new Event("change", {bubbles: true}));
    field.focus();
  });
  // Sortable tables: <table class="sortable">; a click on a header sorts by that column (again: reversed).
  document.addEventListener("click", function (e) {
    var th = e.target.closest("table.sortable th");
    if (!th || e.target.closest("a,input,button")) return;
    var table = th.closest("table"), body = table.tBodies[0], index = Array.prototype.indexOf.call(th.parentNode.children, th);
    var desc = th.getAttribute("aria-sort") === "ascending";
    table.querySelectorAll("th[aria-sort]").forEach(function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    var rows = Array.prototype.slice.call(body.rows).filter(function (r) { return r.cells.length > index; });
    function key(r) { var c = r.cells[index]; return (c.getAttribute("data-sort") || c.textContent).trim(); }
    rows.sort(function (a, b) {
      // numbers compare as numbers; anything else (ISO times "2026-11-30T09:05", codes, words) as text
      var x = key(a), y = key(b), number = /^-?\d+(\.\d+)?$/;
      var cmp = number.test(x) && number.test(y) ? parseFloat(x) - parseFloat(y) : x.localeCompare(y, "zh");
      return desc ? -cmp : cmp;
    });
    rows.forEach(function (r) { body.appendChild(r); });
  });
  // After the intake panel refreshes: an unambiguous place (or a category proposal above the confidence
  // threshold) fills its empty field (shown, and editable),
  // so the keyboard path never has to leave the form. Ambiguous places are only listed.
  // After the intake panel refreshes, the fields it manages (marked data-autofield) follow it: a field that is
  // empty, or still holds the value the assistant put there, takes the panel's sure proposal (data-autofill), or is
  // emptied when the panel is no longer sure. A value the operator typed or chose is never replaced.
  document.addEventListener("htmx:afterSwap", function () {
    var managed = {};
    document.querySelectorAll("[data-autofield]").forEach(function (m) {
      managed[m.getAttribute("data-autofield")] = "";
    });
    document.querySelectorAll("[data-autofill]").forEach(function (b) {
      managed[b.getAttribute("data-fill")] = b.getAttribute("data-value");
    });
    Object.keys(managed).forEach(function (selector) {
      var field = document.querySelector(selector);
      if (!field) return;
      var mine = field.dataset.autoValue !== undefined && field.value === field.dataset.autoValue;
      if (field.value && !mine) return;
      var next = managed[selector];
      if (next) field.dataset.autoValue = next; else delete field.dataset.autoValue;
      field.classList.toggle("autofilled", !!next);
      if (field.value !== next) {
        field.value = next;
        field.dispatchEvent(new Event("change", { bubbles: true }));
      }
    });
  });
  // Typing in a field makes its value the operator's own.
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t && t.dataset && t.dataset.autoValue !== undefined) {
      delete t.dataset.autoValue;
      t.classList.remove("autofilled");
    }
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
  // Charts write their text in the page's font (the CJK stack of app.css), not ECharts' own "sans-serif", so that
  // names, ℃ and the other symbols look as on the page. Deferred scripts run in order before DOMContentLoaded, so
  // ECharts is loaded here when the page has it, and this runs before the pages' own chart code.
  document.addEventListener("DOMContentLoaded", function () {
    if (!window.echarts || echarts.jiesuFont) return;
    var font = window.getComputedStyle(document.body).fontFamily, init = echarts.init;
    try {
      echarts.init = function (el, theme, opts) {
        var chart = init.call(echarts, el, theme, opts);
        chart.setOption({textStyle: {fontFamily: font}});
        return chart;
      };
      echarts.jiesuFont = font;
    } catch (ignored) { /* a frozen module object: charts keep ECharts' default font */ }
  });
  // The district map (ECharts + the committed GeoJSON), shared by the overview and the city dashboard.
  // `el` carries data-geo (the GeoJSON URL); `rows` are {name, code, <key>: number|null}; a higher value is worse,
  // except for "satisfaction". Redrawing with new rows reuses the chart. Sets el.dataset.map = "ready".
  // With data-only="<district code>" (a district supervisor) the map is that district alone, fitted to the frame.
  var geo = null;
  window.jiesuDistrictMap = function (el, rows, key, opts) {
    var only = el.dataset.only || "", name = only ? "beijing-" + only : "beijing";
    function draw() {
      var chart = echarts.getInstanceByDom(el) || echarts.init(el, document.body.classList.contains("screen") ? "dark" : null, opts);
      var values = rows.map(function (d) { return {name: d.name, value: d[key] == null ? null : d[key]}; });
      var max = Math.max.apply(null, values.map(function (v) { return v.value || 0; }).concat([1]));
      var good = key === "satisfaction";
      chart.setOption({animation: false, tooltip: {trigger: "item", formatter: function (p) {
          var name = document.createElement("span"); name.textContent = p.name;
          return name.innerHTML + ": " + (p.value == null || isNaN(p.value) ? "—" : p.value); }},
        visualMap: {min: good ? 60 : 0, max: good ? 100 : max, calculable: true, left: 10, bottom: 10,
          inRange: {color: good ? ["#b4232a", "#d4a72c", "#2da44e"] : ["#eef6ff", "#7cb5ec", "#b4232a"]}},
        series: [{type: "map", map: name, roam: false, label: {show: true, fontSize: only ? 14 : 10}, data: values}]},
        {replaceMerge: ["series"]});
      el.dataset.map = "ready";
    }
    function register() {
      if (echarts.getMap(name)) return;
      echarts.registerMap(name, only ? {type: "FeatureCollection", features: geo.features.filter(function (f) {
        return String(f.properties.adcode) === only; })} : geo);
    }
    if (geo) { register(); draw(); return; }
    fetch(el.dataset.geo).then(function (r) { return r.json(); }).then(function (g) {
      if (!geo) geo = g;
      register();
      draw();
    });
  };
  // A district's streets beside its map: one bar per street/township, the busiest on top, shaded like the map.
  // rows are {name, code, <key>: number}; a click on a bar opens the street's open tickets (el.dataset.link + code).
  window.jiesuStreetChart = function (el, rows, key, opts) {
    var sorted = rows.filter(function (r) { return r[key] != null; }).sort(function (a, b) { return b[key] - a[key]; });
    el.style.height = Math.max(240, sorted.length * 18 + 40) + "px";
    var chart = echarts.getInstanceByDom(el) || echarts.init(el, document.body.classList.contains("screen") ? "dark" : null, opts);
    var max = Math.max.apply(null, sorted.map(function (r) { return r[key] || 0; }).concat([1]));
    chart.setOption({animation: false, tooltip: {trigger: "axis", axisPointer: {type: "shadow"}},
      grid: {left: 110, right: 40, top: 10, bottom: 20}, xAxis: {type: "value", minInterval: 1},
      yAxis: {type: "category", inverse: true, data: sorted.map(function (r) { return r.name; }), axisLabel: {fontSize: 11}},
      visualMap: {show: false, min: 0, max: max, dimension: 0, inRange: {color: ["#7cb5ec", "#b4232a"]}},
      series: [{type: "bar", data: sorted.map(function (r) { return r[key]; }), label: {show: true, position: "right"}}]},
      {replaceMerge: ["series"]});
    chart.resize();
    chart.off("click");
    if (el.dataset.link) chart.on("click", function (p) { window.location.href = el.dataset.link + sorted[p.dataIndex].code; });
    el.dataset.streets = String(sorted.length);
  };
})();
