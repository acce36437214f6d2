// provision report --html: sort (click a heading) and filter (the box under it) every
// table of hosts; the view lives in location.hash (#sort=age:desc&result=stale).
(function () {
  var tables = Array.prototype.slice.call(document.querySelectorAll("table.hosts"));
  var names = [];
  if (tables.length) {
    names = Array.prototype.map.call(tables[0].tHead.rows[0].cells, function (c) {
      return c.getAttribute("data-col");
    });
  }
  function readView() {
    var view = {sort: "", desc: false, filters: {}};
    location.hash.replace(/^#/, "").split("&").forEach(function (part) {
      if (!part) { return; }
      var kv = part.split("=");
      var key = decodeURIComponent(kv[0]);
      var value = decodeURIComponent((kv[1] || "").replace(/[+]/g, " "));
      if (key === "sort") {
        view.desc = /:desc$/.test(value);
        view.sort = value.replace(/:(asc|desc)$/, "");
      } else if (names.indexOf(key) >= 0) {
        view.filters[key] = value;
      }
    });
    return view;
  }
  function writeView(view) {
    var parts = [];
    if (view.sort) { parts.push("sort=" + encodeURIComponent(view.sort) + (view.desc ? ":desc" : "")); }
    names.forEach(function (n) {
      if (view.filters[n]) { parts.push(encodeURIComponent(n) + "=" + encodeURIComponent(view.filters[n])); }
    });
    history.replaceState(null, "", parts.length ? "#" + parts.join("&") : location.pathname + location.search);
  }
  function key(cell) {
    var v = cell.getAttribute("data-v");
    if (v !== null && v !== "" && !isNaN(Number(v))) { return [0, Number(v)]; }
    return [1, (v !== null ? v : cell.textContent).toLowerCase()];
  }
  function apply(view) {
    tables.forEach(function (table) {
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var col = names.indexOf(view.sort);
      if (col >= 0) {
        rows.sort(function (a, b) {
          var x = key(a.cells[col]), y = key(b.cells[col]);
          var c = x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0);
          return view.desc ? -c : c;
        });
        rows.forEach(function (r) { body.appendChild(r); });
      }
      rows.forEach(function (r) {
        var shown = names.every(function (n, i) {
          var want = (view.filters[n] || "").toLowerCase();
          return !want || r.cells[i].textContent.toLowerCase().indexOf(want) >= 0;
        });
        if (shown) { r.removeAttribute("hidden"); } else { r.setAttribute("hidden", ""); }
      });
      Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
        var n = th.getAttribute("data-col");
        th.setAttribute("aria-sort", n === view.sort ? (view.desc ? "descending" : "ascending") : "none");
      });
      Array.prototype.forEach.call(table.querySelectorAll("input[data-col]"), function (box) {
        box.value = view.filters[box.getAttribute("data-col")] || "";
      });
    });
  }
  tables.forEach(function (table) {
    Array.prototype.forEach.call(table.querySelectorAll("th button"), function (button) {
      button.addEventListener("click", function () {
        var view = readView(), n = button.parentNode.getAttribute("data-col");
        view.desc = view.sort === n ? !view.desc : false;
        view.sort = n;
        writeView(view);
        apply(view);
      });
    });
    Array.prototype.forEach.call(table.querySelectorAll("input[data-col]"), function (box) {
      box.addEventListener("input", function () {
        var view = readView();
        view.filters[box.getAttribute("data-col")] = box.value;
        writeView(view);
        apply(view);
      });
    });
  });
  window.addEventListener("hashchange", function () { apply(readView()); });
  apply(readView());
})();
