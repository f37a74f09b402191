// Progressive enhancement only: every page and form works without this
// file. It shows the copy buttons (hidden until this runs) and copies.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target.closest("[data-copy]") : null;
    if (!t) { return; }
    var src = document.getElementById(t.getAttribute("data-copy"));
    if (!src || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(src.textContent.trim()).then(function () {
      var done = t.getAttribute("data-done");
      if (done) {
        var was = t.textContent;
        t.textContent = done;
        setTimeout(function () { t.textContent = was; }, 2000);
      }
    });
  });
})();
