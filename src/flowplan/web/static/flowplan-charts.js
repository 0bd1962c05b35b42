/* Draws every chart of a page: each element with a data-plot attribute holds a Plotly figure
 * as JSON ({data, layout, config}), built on the server by flowplan.web.charts. Loaded as a
 * file (the Content-Security-Policy allows no inline script); the numbers are also in a table
 * on every page, so nothing is lost without JavaScript. */
(function () {
  "use strict";

  function draw(root) {
    if (typeof window.Plotly === "undefined") {
      return;
    }
    var scope = root && root.querySelectorAll ? root : document;
    var nodes = scope.querySelectorAll("[data-plot]");
    Array.prototype.forEach.call(nodes, function (node) {
      if (node.getAttribute("data-plotted") === "1") {
        return;
      }
      var figure;
      try {
        figure = JSON.parse(node.getAttribute("data-plot"));
      } catch (err) {
        node.setAttribute("data-plot-error", String(err));
        return;
      }
      node.setAttribute("data-plotted", "1");
      var fallback = node.querySelector(".plot-fallback");
      if (fallback) {
        fallback.parentNode.removeChild(fallback);
      }
      window.Plotly.newPlot(
        node,
        figure.data || [],
        figure.layout || {},
        figure.config || { responsive: true, displaylogo: false }
      );
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { draw(document); });
  } else {
    draw(document);
  }
  /* pages swapped in by htmx get their charts too */
  document.addEventListener("htmx:afterSettle", function (event) { draw(event.target); });
})();
