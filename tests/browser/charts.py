"""Clicking an ECharts mark the way a person would: once the chart has finished drawing, at a
point that lies on the mark's shape and where nothing else is on top of it.

Playwright's own click aims at the centre of the element's bounding box. For a bar that is on
the bar; for a curved sankey flow it may be empty space or another flow, and while the chart
is still drawing (or redrawing after a resize) the box moves under the pointer.
"""

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

# ECharts says "finished" after a render that left nothing animating, no update pending and
# no action queued. Ask its renderer for a frame, so the event comes even if the first
# drawing finished before anyone listened; fonts first, as they change the layout.
FINISHED = """async (container) => {
  await document.fonts.ready;
  const chart = echarts.getInstanceByDom(container);
  await new Promise((resolve) => {
    chart.on("finished", function done() {
      chart.off("finished", done);
      resolve();
    });
    chart.getZr().refresh();
  });
}"""

# A point inside the shape (SVG isPointInFill), in the middle of the band the shape makes on
# a vertical line through it, that the page hits on this element: in client coordinates, or
# null when no such point is found (not drawn yet, or covered).
POINT_ON = """(shape) => {
  const box = shape.getBBox();
  const toScreen = shape.getScreenCTM();
  if (!toScreen || box.width === 0 || box.height === 0) return null;
  const steps = Math.max(1, Math.ceil(box.height));
  for (const across of [0.5, 0.4, 0.6, 0.3, 0.7, 0.2, 0.8]) {
    const x = box.x + box.width * across;
    const inside = [];
    for (let i = 0; i <= steps; i++) {
      const y = box.y + (box.height * i) / steps;
      if (shape.isPointInFill(new DOMPoint(x, y))) inside.push(y);
    }
    if (!inside.length) continue;
    const middle = new DOMPoint(x, (inside[0] + inside[inside.length - 1]) / 2);
    if (!shape.isPointInFill(middle)) continue;
    const point = middle.matrixTransform(toScreen);
    if (document.elementFromPoint(point.x, point.y) === shape) return { x: point.x, y: point.y };
  }
  return null;
}"""


def wait_until_drawn(page, chart_container) -> None:
    """Wait until the ECharts chart in `chart_container` (a locator) has finished drawing."""
    chart_container.scroll_into_view_if_needed()
    chart_container.evaluate(FINISHED)


def point_on(page, mark) -> tuple[float, float]:
    """A point on the SVG shape `mark` (a locator) of a chart, once the chart is drawn."""
    chart = mark.locator("xpath=ancestor::div[contains(concat(' ', @class, ' '), ' chart ')][1]")
    wait_until_drawn(page, chart)
    point = page.wait_for_function(POINT_ON, arg=mark.element_handle()).json_value()
    return point["x"], point["y"]


def click_mark(page, mark) -> None:
    """Click the SVG shape `mark` (a locator) of a chart at a point on it, once drawn."""
    page.mouse.click(*point_on(page, mark))


# Every navigation the page starts, recorded as it starts (the Navigation API).
WATCH_NAVIGATIONS = """() => {
  if (window.startedNavigations) return;
  window.startedNavigations = [];
  navigation.addEventListener("navigate", (event) => startedNavigations.push(event.destination.url));
}"""


def click_mark_to_navigate(page, mark, *, attempts: int = 3) -> None:
    """Click the chart mark `mark` until the page starts a navigation (the caller then waits
    for where it lands). A click can be lost while two browsers share a loaded machine: the
    pointer's move re-renders the hovered flow, and the press lands before the frame that
    draws it. A lost click starts no navigation, so clicking again doubles nothing. The
    point is found once: the hover may redraw the chart and reorder its paths, so `mark`
    (often a locator by position, nth(i)) can name another flow by the second click."""
    page.evaluate(WATCH_NAVIGATIONS)
    point = point_on(page, mark)
    for _ in range(attempts):
        page.mouse.click(*point)
        try:
            # A page without the watch is the next document: the navigation has happened.
            page.wait_for_function(
                "() => typeof startedNavigations === 'undefined' || startedNavigations.length > 0",
                timeout=5_000,
            )
        except PlaywrightTimeoutError:
            continue
        return
    raise AssertionError(f"{attempts} clicks on the chart mark started no navigation")
