// Draws the {% chart %} figures of analytics pages with the vendored Apache ECharts
// (load vendor/echarts.min.js first). Each figure holds an empty .chart container, its option
// as JSON in the <script type="application/json"> beside it, and the numbers as a table.
(function () {
  "use strict";
  if (!window.echarts) return; // the table under each chart still has every number

  var reducedMotion = window.matchMedia("(prefers-reduced-motion: reduce)");
  // Follows the container rather than the window, so a chart also fits when a sidebar or a
  // <details> around it changes its width.
  var resizer = new ResizeObserver(function (entries) {
    entries.forEach(function (entry) {
      var chart = echarts.getInstanceByDom(entry.target);
      if (chart) chart.resize();
    });
  });

  // A drill URL must be a path on this site: never another origin, never javascript:.
  function isLocalPath(url) {
    return typeof url === "string" && /^\/(?![\/\\])/.test(url);
  }

  function formatNumber(value, suffix) {
    if (value === null || value === undefined || value === "-") return "–";
    return echarts.format.addCommas(value) + suffix;
  }

  // Sankey node names are unique ("Spine (to)"); show the plain name the spec gives.
  function labelSankey(series) {
    var display = {};
    series.data.forEach(function (node) {
      display[node.name] = node.display || node.name;
    });
    var encode = echarts.format.encodeHTML;
    series.label = Object.assign({}, series.label, {
      formatter: function (params) {
        return display[params.name];
      },
    });
    series.tooltip = Object.assign({}, series.tooltip, {
      formatter: function (params) {
        if (params.dataType === "edge") {
          return (
            encode(display[params.data.source]) + " → " + encode(display[params.data.target]) +
            ": <strong>" + formatNumber(params.value, "") + "</strong>"
          );
        }
        return encode(display[params.name]) + ": <strong>" + formatNumber(params.value, "") + "</strong>";
      },
    });
  }

  function prepare(option, container) {
    option.animation = !reducedMotion.matches;
    option.textStyle = Object.assign(
      { fontFamily: getComputedStyle(container).fontFamily },
      option.textStyle
    );
    if (option.tooltip && reducedMotion.matches) option.tooltip.transitionDuration = 0;
    (option.series || []).forEach(function (series) {
      if (series.valueSuffix) {
        var suffix = series.valueSuffix;
        series.tooltip = Object.assign({}, series.tooltip, {
          valueFormatter: function (value) {
            return formatNumber(value, suffix);
          },
        });
      }
      if (series.type === "sankey") labelSankey(series);
    });
    return option;
  }

  function openDrill(params) {
    var url = params.data && params.data.drill;
    if (!isLocalPath(url)) return;
    var click = params.event && params.event.event;
    if (click && (click.ctrlKey || click.metaKey || click.shiftKey)) {
      window.open(url, "_blank", "noopener");
    } else {
      window.location.assign(url);
    }
  }

  function draw(container) {
    if (echarts.getInstanceByDom(container)) return;
    var source = container.parentElement.querySelector("script[type='application/json']");
    if (!source) return;
    var spec = JSON.parse(source.textContent);
    container.style.height = container.dataset.height || "320px";
    var chart = echarts.init(container, null, { renderer: "svg" });
    chart.setOption(prepare(spec.option, container));
    chart.on("click", openDrill);
    resizer.observe(container);
  }

  function drawAll() {
    document.querySelectorAll(".chart[data-chart]").forEach(draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
  // Charts that htmx swaps in are drawn once they settle; drawn ones are skipped.
  document.addEventListener("htmx:afterSettle", drawAll);
  // And charts it swaps out let go of their listeners and observers.
  document.addEventListener("htmx:beforeCleanupElement", function (event) {
    var chart = event.target instanceof Element && echarts.getInstanceByDom(event.target);
    if (chart) {
      resizer.unobserve(event.target);
      chart.dispose();
    }
  });
})();
