// Progressive enhancement only: every form works without this file.
(function () {
  "use strict";
  document.addEventListener("input", function (e) {
    var t = e.target;
    if (t.dataset && t.dataset.out) {
      var o = document.getElementById(t.dataset.out);
      // A paired input (a weight's range and number) takes the value; an output its text.
      if (o && o.tagName === "INPUT") { o.value = t.value; } else if (o) { o.textContent = t.value; }
    }
  });
  document.addEventListener("click", function (e) {
    var t = e.target;
    if (!t.dataset) { return; }
    if (t.hasAttribute("data-add-node")) {
      var rows = t.parentNode.querySelectorAll(".node-row");
      var copy = rows[rows.length - 1].cloneNode(true);
      copy.querySelectorAll("input").forEach(function (i) { i.value = ""; });
      t.parentNode.insertBefore(copy, t);
    }
    if (t.dataset.copy) {
      var src = document.getElementById(t.dataset.copy);
      if (src && navigator.clipboard) {
        navigator.clipboard.writeText(src.textContent).then(function () { t.textContent = "✓"; });
      }
    }
  });
})();
