"""Chart specs for the analytics pages: an Apache ECharts option plus the same numbers as a table.

The builders take numbers already counted by a selector and return plain, JSON-ready dicts;
`{% chart %}` (templatetags/analytics_charts.py) renders one and static/analytics/charts.js
draws it. A spec is::

    {"kind": "bar", "title": ..., "option": {...ECharts option...},
     "table": {"headers": [...], "rows": [[str, ...]], "links": [[url | None, ...]], "caption": str},
     "aria_label": "One or two sentences saying what the chart shows."}

Any data point may carry a drill URL (`drill`, parallel to the data): clicking the point, or
the number in the table, opens it. The caller builds those URLs from filters only (department
id, month, stage); they are checked to be paths on this site and must never carry patient data.
"""

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

# Okabe & Ito's palette, told apart under every common colour-vision deficiency. Yellow goes
# last because it is faint on Pico's white background.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442"]
REACHED_COLOR = PALETTE[0]
LOST_COLOR = PALETTE[3]
# Pico's light-theme text colour: target lines and cut-offs read as annotations, not data.
REFERENCE_COLOR = "#373c44"

# A partial period (a month to date): hatched, lighter bars over a shaded, labelled band.
PARTIAL_DECAL = {
    "symbol": "rect",
    "symbolSize": 1,
    "dashArrayX": [1, 0],
    "dashArrayY": [2, 5],
    "rotation": -0.7853981634,
    "color": "rgba(255, 255, 255, 0.75)",
}
PARTIAL_SHADE = "rgba(55, 60, 68, 0.07)"

# A node that is both a source and a target in a two-column sankey gets this after its name.
SANKEY_TARGET_SUFFIX = " (to)"

type Spec = dict[str, Any]
type Number = int | float | Decimal | None


# Builders -------------------------------------------------------------------------------


def line(
    title: str,
    x: list[str],
    series: Mapping[str, Sequence[Number]],
    *,
    y_name: str,
    x_name: str = "Period",
    drill: Mapping[str, Sequence[str | None]] | None = None,
    stacked: bool = False,
    area: bool = False,
    percent: bool = False,
    mark_line: float | None = None,
    mark_label: str = "",
    partial: Sequence[int] = (),
) -> Spec:
    """Lines over `x` (e.g. months), one per entry of `series`; None leaves a gap.

    `drill` maps a series name to a URL per point. `mark_line` draws a dashed horizontal
    reference line (an SLA target) labelled `mark_label`. `percent` says the values are
    already percentages (0-100). `partial` lists the points that count only part of their
    span (a month to date): their segment is shaded and labelled, their points hollow.
    """
    _check_series(series, len(x), "x")
    links = _check_series_drill(drill, series, len(x), "x")
    suffix = "%" if percent else ""
    option = _cartesian_option(
        category_axis={"type": "category", "data": list(x), "boundaryGap": False},
        value_axis=_value_axis(y_name, percent=percent),
        legend=len(series) > 1,
        pointer="line",
    )
    for index, (name, values) in enumerate(series.items()):
        numbers = [_number(v) for v in values]
        item_links = links.get(name, [None] * len(x))
        entry: dict[str, Any] = {
            "type": "line",
            "name": name,
            "data": [_item(v, url) for v, url in zip(numbers, item_links, strict=True)],
            "showSymbol": True,
            "symbolSize": 8,
            "connectNulls": False,
            "cursor": "pointer" if any(item_links) else "default",
        }
        if area:
            entry["areaStyle"] = {"opacity": 0.2}
        for i in partial:
            entry["data"][i]["symbol"] = "emptyTriangle"
            entry["data"][i]["symbolSize"] = 11
        _series_options(entry, index, stacked, suffix, "yAxis", mark_line, mark_label)
        option["series"].append(entry)
    _mark_partial(option, x, partial, bands=False)

    table = _series_table(x_name, x, series, links, suffix)
    summary = f"{title}. Line chart of {y_name}"
    if series:
        summary += f" for {_join(list(series))}"
    if x:
        summary += f" from {x[0]} to {x[-1]}."
        latest = [f"{name} {_fmt(_number(values[-1]), suffix)}" for name, values in series.items()]
        summary += f" {x[-1]}: {_join(latest)}."
    else:
        summary += ". No data."
    summary += _partial_words(x, partial, table)
    mark = None if mark_line is None else _fmt(mark_line, suffix)
    return _marked_spec("line", title, option, table, summary, mark, mark_label)


def bar(
    title: str,
    categories: list[str],
    series: Mapping[str, Sequence[Number]],
    *,
    y_name: str,
    x_name: str = "Category",
    horizontal: bool = False,
    stacked: bool = False,
    drill: Mapping[str, Sequence[str | None]] | None = None,
    percent: bool = False,
    mark_line: float | None = None,
    mark_label: str = "",
    partial: Sequence[int] = (),
) -> Spec:
    """Bars per category, one bar (or stacked segment) per entry of `series`.

    `partial` lists the categories that count only part of their span (a month to date):
    their bars are hatched and lighter, their band shaded and labelled "partial".

    `horizontal` lists the categories top to bottom (good for long names such as practices).
    `percent` says the values are already percentages (0-100): the axis runs to 100 %.
    `drill` maps a series name to a URL per category. `mark_line` draws a dashed reference
    line at that value, labelled `mark_label`.
    """
    _check_series(series, len(categories), "categories")
    links = _check_series_drill(drill, series, len(categories), "categories")
    suffix = "%" if percent else ""
    category_axis: dict[str, Any] = {"type": "category", "data": list(categories)}
    if horizontal:
        category_axis["inverse"] = True  # first category on top, as in the table
    option = _cartesian_option(
        category_axis=category_axis,
        value_axis=_value_axis(y_name, percent=percent, horizontal=horizontal),
        legend=len(series) > 1,
        horizontal=horizontal,
    )
    for index, (name, values) in enumerate(series.items()):
        item_links = links.get(name, [None] * len(categories))
        entry: dict[str, Any] = {
            "type": "bar",
            "name": name,
            "data": [_item(_number(v), url) for v, url in zip(values, item_links, strict=True)],
            "cursor": "pointer" if any(item_links) else "default",
        }
        for i in partial:
            entry["data"][i]["itemStyle"] = {"opacity": 0.55, "decal": PARTIAL_DECAL}
        axis = "xAxis" if horizontal else "yAxis"
        _series_options(entry, index, stacked, suffix, axis, mark_line, mark_label)
        option["series"].append(entry)
    _mark_partial(option, categories, partial, bands=True, horizontal=horizontal)

    table = _series_table(x_name, categories, series, links, suffix)
    summary = f"{title}. Bar chart of {y_name} for {len(categories)} {_plural(x_name)}"
    if len(series) > 1:
        summary += f", by {_join(list(series))}"
    summary += "."
    if categories and series and not stacked and len(series) == 1:
        values = [_number(v) for v in next(iter(series.values()))]
        top = _argmax(values)
        if top is not None:
            summary += f" Highest: {categories[top]} ({_fmt(values[top], suffix)})."
    if stacked and categories:
        totals = [sum(_number(s[i]) or 0 for s in series.values()) for i in range(len(categories))]
        top = _argmax(totals)
        if top is not None:  # never None: there is a total per category
            summary += f" Highest total: {categories[top]} ({_fmt(totals[top], suffix)})."
    summary += _partial_words(categories, partial, table)
    mark = None if mark_line is None else _fmt(mark_line, suffix)
    return _marked_spec("bar", title, option, table, summary, mark, mark_label)


def funnel(
    title: str,
    stages: list[str],
    reached: list[int],
    lost: list[int],
    *,
    drill: Mapping[str, Sequence[str | None]] | None = None,
    value_name: str = "Referrals",
    detours: Sequence[Mapping[str, Any]] = (),
) -> Spec:
    """How many referrals reached each stage, with those lost at it stacked beside them.

    Drawn as horizontal bars, first stage on top, so every number stays readable (a trapezoid
    funnel hides them). `drill` may map "reached" and/or "lost" to a URL per stage.

    `detours` are optional stages taken between two stages, shown beside the bars as a table
    of their own (drawn as stages, they would make the counts go up again): each a mapping
    of "label", "after" (the stage it leaves from), "reached", "share" (of those that reached
    that stage, 0 to 1 or None), "lost", "median_hours" and optionally "drill" (a URL).
    """
    _check_length(reached, len(stages), "reached", "stages")
    _check_length(lost, len(stages), "lost", "stages")
    drill = drill or {}
    unknown = set(drill) - {"reached", "lost"}
    if unknown:
        raise ValueError(f"A funnel's drill has keys 'reached' and 'lost', not {sorted(unknown)}.")
    reached_links = _check_links(drill.get("reached"), len(stages), "drill['reached']", "stages")
    lost_links = _check_links(drill.get("lost"), len(stages), "drill['lost']", "stages")

    option = _cartesian_option(
        category_axis={"type": "category", "data": list(stages), "inverse": True},
        value_axis=_value_axis(value_name, horizontal=True),
        legend=True,
        horizontal=True,
    )
    for name, values, links, color, position in (
        ("Reached", reached, reached_links, REACHED_COLOR, "inside"),
        ("Lost", lost, lost_links, LOST_COLOR, "right"),
    ):
        data = []
        for value, url in zip(values, links, strict=True):
            item = _item(value, url)
            if not value:
                item["label"] = {"show": False}  # no "0" squeezed into an empty segment
            data.append(item)
        option["series"].append(
            {
                "type": "bar",
                "name": name,
                "stack": "stage",
                "data": data,
                "itemStyle": {"color": color},
                "label": {"show": True, "position": position},
                "cursor": "pointer" if any(links) else "default",
            }
        )

    first = reached[0] if reached else 0
    rows, table_links = [], []
    for i, stage in enumerate(stages):
        share = _fmt(_share(reached[i], first), "%") if first else "–"
        rows.append([stage, _fmt(reached[i]), _fmt(lost[i]), share])
        table_links.append([None, reached_links[i], lost_links[i], None])
    table = _table(["Stage", "Reached", "Lost", "% of first stage"], rows, table_links)
    steps = "; ".join(
        f"{stage} {_fmt(r)} reached, {_fmt(lost_count)} lost"
        for stage, r, lost_count in zip(stages, reached, lost, strict=True)
    )
    summary = f"{title}. Funnel of {len(stages)} stages: {steps or 'no data'}."
    spec = _spec("funnel", title, option, table, summary)
    if detours:
        spec["detours"] = _detours(detours, stages)
        summary += " Detours: " + "; ".join(
            f"{d['label']} after {d['after']}, {_fmt(d['reached'])} referrals" for d in detours
        )
        spec["aria_label"] = summary + "."
    return spec


def _detours(detours: Sequence[Mapping[str, Any]], stages: list[str]) -> dict:
    rows, links = [], []
    for detour in detours:
        if detour["after"] not in stages:
            raise ValueError(
                f"A detour leaves from a stage of the funnel, not {detour['after']!r}."
            )
        url = _check_url(detour.get("drill"))
        share = detour["share"]
        rows.append(
            [
                detour["label"],
                detour["after"],
                _fmt(detour["reached"]),
                "–" if share is None else _fmt(_share(share, 1), "%"),
                _fmt(detour["lost"]),
                _fmt(detour["median_hours"], " h"),
            ]
        )
        links.append([None, None, url, None, None, None])
    headers = ["Detour", "After", "Referrals", "% of those after", "Lost there", "Median stay"]
    table = _table(headers, rows, links)
    table["caption"] = "Optional stages on the way, with their own counts and waits"
    return table


def pareto(
    title: str,
    labels: list[str],
    counts: list[int],
    *,
    drill: Sequence[str | None] | None = None,
    cutoff_share: float = 0.8,
    value_name: str = "Count",
) -> Spec:
    """Bars sorted largest first, with the cumulative share as a line on a 0-100 % axis.

    A dashed line marks `cutoff_share` (80 % by default): the causes left of where the
    cumulative line crosses it are "the vital few". `drill` is a URL per label, in the order
    given (it is sorted along with the counts).
    """
    _check_length(counts, len(labels), "counts", "labels")
    links = _check_links(drill, len(labels), "drill", "labels")
    if not 0 < cutoff_share <= 1:
        raise ValueError(f"cutoff_share is a fraction between 0 and 1, not {cutoff_share}.")
    order = sorted(range(len(labels)), key=lambda i: -counts[i])  # stable: ties keep their order
    labels = [labels[i] for i in order]
    counts = [counts[i] for i in order]
    links = [links[i] for i in order]
    cumulative = cumulative_shares(counts)
    cutoff = round(cutoff_share * 100, 1)
    cutoff_text = _fmt(cutoff, "%")

    option = _cartesian_option(
        category_axis={"type": "category", "data": labels},
        value_axis=_value_axis(value_name),
        legend=True,
    )
    option["yAxis"] = [
        option["yAxis"],
        {
            "type": "value",
            "name": "Cumulative",
            "min": 0,
            "max": 100,
            "axisLabel": {"formatter": "{value}%"},
            "splitLine": {"show": False},
        },
    ]
    option["series"] = [
        {
            "type": "bar",
            "name": value_name,
            "data": [_item(c, url) for c, url in zip(counts, links, strict=True)],
            "itemStyle": {"color": REACHED_COLOR},
            "cursor": "pointer" if any(links) else "default",
        },
        {
            "type": "line",
            "name": "Cumulative %",
            "yAxisIndex": 1,
            "data": cumulative,
            "itemStyle": {"color": LOST_COLOR},
            "showSymbol": True,
            "symbolSize": 6,
            "valueSuffix": "%",
            "cursor": "default",
            "markLine": _mark_line("yAxis", cutoff, cutoff_text, "%"),
        },
    ]

    rows = [
        [label, _fmt(count), _fmt(share, "%")]
        for label, count, share in zip(labels, counts, cumulative, strict=True)
    ]
    table_links = [[None, url, None] for url in links]
    table = _table(["Cause", value_name, "Cumulative %"], rows, table_links)
    table["caption"] = f"Sorted largest first; the dashed line marks {cutoff_text} of the total."
    total = sum(counts)
    summary = f"{title}. Pareto chart of {len(labels)} causes, {_fmt(total)} in all."
    if total:
        vital = next(i for i, share in enumerate(cumulative) if share >= cutoff) + 1
        summary += (
            f" The largest is {labels[0]} ({_fmt(counts[0])});"
            f" the first {vital} of {len(labels)} make up {cutoff_text} or more."
        )
    return _spec("pareto", title, option, table, summary)


def sankey(
    title: str,
    nodes: list[str],
    links: list[tuple[str, str, int]],
    *,
    drill: dict[tuple[str, str], str] | None = None,
    value_name: str = "Count",
    multistage: bool = False,
) -> Spec:
    """Flows between groups (e.g. referral source to department), widths by count.

    `nodes` gives the order of the groups; groups without a flow are left out. `links` are
    (source, target, count). By default the flow has two columns, sources and targets: a
    name found on both sides (Spine to Hand and Hand to Spine) becomes two nodes, the target
    one named with SANKEY_TARGET_SUFFIX and labelled with the plain name. `multistage=True`
    keeps such a name as one node in the middle of a longer flow (received, triaged,
    accepted); the flow must not loop back then. `drill` maps (source, target) to a URL.
    """
    known = set(nodes)
    if len(known) != len(nodes):
        raise ValueError("Each sankey node is listed once.")
    for source, target, _value in links:
        for name in (source, target):
            if name not in known:
                raise ValueError(f"The sankey link {source} → {target} names {name}, not a node.")
    drill = drill or {}
    link_keys = {(source, target) for source, target, _value in links}
    for key in drill:
        if key not in link_keys:
            raise ValueError(f"drill names the flow {key[0]} → {key[1]}, which is not a link.")
        _check_url(drill[key])

    sources = {source for source, _target, _value in links}
    targets = {target for _source, target, _value in links}
    target_names = {name: name for name in nodes}
    data: list[dict[str, Any]]
    if multistage:
        _check_acyclic(links)
        data = [{"name": name} for name in nodes if name in sources or name in targets]
    else:
        taken = set(nodes)
        data = [{"name": name} for name in nodes if name in sources]
        for name in nodes:
            if name not in targets:
                continue
            if name not in sources:
                data.append({"name": name})
                continue
            unique = name + SANKEY_TARGET_SUFFIX
            while unique in taken:
                unique += SANKEY_TARGET_SUFFIX
            taken.add(unique)
            target_names[name] = unique
            data.append({"name": unique, "display": name})  # charts.js labels it `display`

    # A group keeps its colour on both sides of a two-column flow.
    position = {name: index for index, name in enumerate(nodes)}
    for node in data:
        group = node.get("display", node["name"])
        node["itemStyle"] = {"color": PALETTE[position[group] % len(PALETTE)]}

    series_links = []
    for source, target, value in links:
        item: dict[str, Any] = {
            "source": source,
            "target": target_names[target],
            "value": _number(value),
        }
        if (source, target) in drill:
            item["drill"] = drill[(source, target)]
        series_links.append(item)

    option = {
        "color": PALETTE,
        "backgroundColor": "transparent",
        "tooltip": {"trigger": "item", "confine": True},
        "series": [
            {
                "type": "sankey",
                "data": data,
                "links": series_links,
                "left": 8,
                # Room for the right-hand labels: about 7 px a character at 12 px.
                "right": min(320, 24 + 7 * max((len(t) for t in targets), default=10)),
                "top": 16,
                "bottom": 16,
                "nodeGap": 12,
                "emphasis": {"focus": "adjacency"},
                "lineStyle": {"color": "gradient", "opacity": 0.35, "curveness": 0.5},
                "label": {"color": REFERENCE_COLOR},
                "cursor": "pointer" if drill else "default",
            }
        ],
    }

    rows = [[source, target, _fmt(value)] for source, target, value in links]
    table_links = [[None, None, drill.get((source, target))] for source, target, _v in links]
    table = _table(["From", "To", value_name], rows, table_links)
    total = sum(value for _s, _t, value in links)
    summary = f"{title}. Flow diagram of {len(links)} flows, {_fmt(total)} in all."
    if links:
        source, target, value = max(links, key=lambda link: link[2])
        summary += f" The largest is {source} to {target} ({_fmt(value)})."
    return _spec("sankey", title, option, table, summary)


def histogram(
    title: str,
    bins: list[str],
    counts: list[int],
    *,
    mark_line_at: str | None = None,
    mark_label: str = "",
    drill: Sequence[str | None] | None = None,
    value_name: str = "Count",
    x_name: str = "Range",
) -> Spec:
    """Counts per bin (e.g. hours to first contact: "0-4 h", "4-8 h", ...), bars touching.

    `mark_line_at` names the bin to mark with a dashed line (the SLA bin), labelled
    `mark_label`. `drill` is a URL per bin.
    """
    _check_length(counts, len(bins), "counts", "bins")
    links = _check_links(drill, len(bins), "drill", "bins")
    if mark_line_at is not None and mark_line_at not in bins:
        raise ValueError(f"mark_line_at is one of the bins, not {mark_line_at!r}.")
    option = _cartesian_option(
        category_axis={"type": "category", "data": list(bins)},
        value_axis=_value_axis(value_name),
        legend=False,
    )
    entry: dict[str, Any] = {
        "type": "bar",
        "name": value_name,
        "data": [_item(c, url) for c, url in zip(counts, links, strict=True)],
        "barCategoryGap": "4%",
        "cursor": "pointer" if any(links) else "default",
    }
    if mark_line_at is not None:
        entry["markLine"] = _mark_line("xAxis", mark_line_at, mark_label or mark_line_at, "")
    option["series"].append(entry)

    rows = [[label, _fmt(count)] for label, count in zip(bins, counts, strict=True)]
    table = _table([x_name, value_name], rows, [[None, url] for url in links])
    summary = f"{title}. Histogram of {_fmt(sum(counts))} over {len(bins)} {_plural(x_name)}."
    top = _argmax(counts)
    if top is not None and counts[top]:
        summary += f" Most fall in {bins[top]} ({_fmt(counts[top])})."
    return _marked_spec("histogram", title, option, table, summary, mark_line_at, mark_label)


def donut(
    title: str,
    labels: list[str],
    values: Sequence[Number],
    *,
    drill: Sequence[str | None] | None = None,
    value_name: str = "Count",
) -> Spec:
    """Shares of a whole, as a ring labelled with each part's percentage. `drill`: URL per part."""
    _check_length(values, len(labels), "values", "labels")
    links = _check_links(drill, len(labels), "drill", "labels")
    numbers = [_number(v) or 0 for v in values]
    total = sum(numbers)
    option = {
        "color": PALETTE,
        "backgroundColor": "transparent",
        "tooltip": {"trigger": "item", "confine": True},
        "legend": {"show": False},
        "series": [
            {
                "type": "pie",
                "name": value_name,
                "radius": ["45%", "70%"],
                "avoidLabelOverlap": True,
                "percentPrecision": 1,  # as in the table
                "label": {"formatter": "{b}: {d}%", "color": REFERENCE_COLOR},
                "data": [
                    _item(v, url, name=label)
                    for label, v, url in zip(labels, numbers, links, strict=True)
                ],
                "cursor": "pointer" if any(links) else "default",
            }
        ],
    }
    shares = percent_shares(numbers)
    rows = [
        [label, _fmt(v), _fmt(share, "%") if total else "–"]
        for label, v, share in zip(labels, numbers, shares, strict=True)
    ]
    table = _table(["Part", value_name, "Share"], rows, [[None, url, None] for url in links])
    summary = f"{title}. Donut chart of {_fmt(total)} in all"
    if total:
        parts = [
            f"{label} {_fmt(v)} ({_fmt(share, '%')})"
            for label, v, share in zip(labels, numbers, shares, strict=True)
        ]
        summary += f": {_join(parts)}."
    else:
        summary += "."
    return _spec("donut", title, option, table, summary)


# Arithmetic -----------------------------------------------------------------------------


def sparkline(values: list[int], width: int = 96, height: int = 22) -> str:
    """SVG polyline points of a monthly trend, scaled to the practice's own busiest month
    (the shape is the point; the numbers are in the other columns)."""
    if len(values) < 2:
        return ""
    step = width / (len(values) - 1)
    top = max(values) or 1
    return " ".join(
        f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values)
    )


def cumulative_shares(counts: list[int]) -> list[float]:
    """Running total of `counts` as a percentage of their sum, to one decimal place."""
    total = sum(counts)
    shares, running = [], 0
    for count in counts:
        running += count
        shares.append(round(running * 100 / total, 1) if total else 0.0)
    return shares


def percent_shares(values: list[float], decimals: int = 1) -> list[float]:
    """Each value's share of the sum in percent, rounded so that the shares add up to 100.

    The largest-remainder method, step for step as ECharts labels a pie ({d}), so the table
    and the chart show the same percentages.
    """
    total = sum(values)
    if not total:
        return [0.0] * len(values)
    digits = 10**decimals
    quotas = [value / total * digits * 100 for value in values]
    seats = [math.floor(quota) for quota in quotas]
    remainders = [quota - seat for quota, seat in zip(quotas, seats, strict=True)]
    for _ in range(digits * 100 - sum(seats)):
        largest = remainders.index(max(remainders))  # the first of equals, as ECharts picks
        seats[largest] += 1
        remainders[largest] = 0
    return [seat / digits for seat in seats]


def _share(part: float, total: float) -> float:
    return round(part * 100 / total, 1)


def _argmax(values: Sequence[Number]) -> int | None:
    """The index of the first largest value that is not None; None if there is none."""
    best, best_value = None, None
    for i, value in enumerate(values):
        if value is not None and (best_value is None or value > best_value):
            best, best_value = i, value
    return best


# Validation -----------------------------------------------------------------------------


def _check_url(url: str | None) -> str | None:
    # A drill URL becomes a link and a click target: only a path on this site, so it can
    # neither leave refloop nor run script (javascript:).
    if url is None:
        return None
    if (
        not isinstance(url, str)
        or not url.startswith("/")
        or url.startswith(("//", "/\\"))
        or any(c.isspace() or ord(c) < 32 for c in url)
    ):
        raise ValueError(
            f"A drill URL is a path on this site such as /referrals/?month=2026-01, not {url!r}."
        )
    return url


def _check_length(values: Sequence, expected: int, name: str, against: str) -> None:
    if len(values) != expected:
        raise ValueError(f"{name} has {len(values)} values for {expected} {against}.")


def _check_links(
    links: Sequence[str | None] | None, expected: int, name: str, against: str
) -> list:
    if links is None:
        return [None] * expected
    _check_length(links, expected, name, against)
    return [_check_url(url) for url in links]


def _check_series(series: Mapping[str, Sequence], expected: int, against: str) -> None:
    for name, values in series.items():
        _check_length(values, expected, f"Series {name!r}", against)


def _check_series_drill(
    drill: Mapping[str, Sequence[str | None]] | None,
    series: Mapping[str, Sequence],
    expected: int,
    against: str,
) -> dict[str, list[str | None]]:
    if not drill:
        return {}
    unknown = set(drill) - set(series)
    if unknown:
        raise ValueError(f"drill names series that are not charted: {sorted(unknown)}.")
    return {
        name: _check_links(urls, expected, f"drill[{name!r}]", against)
        for name, urls in drill.items()
    }


def _check_acyclic(links: list[tuple[str, str, int]]) -> None:
    following: dict[str, set[str]] = {}
    for source, target, _value in links:
        following.setdefault(source, set()).add(target)
    done: set[str] = set()

    def visit(name: str, path: tuple[str, ...]) -> None:
        if name in path:
            raise ValueError(
                f"A multistage sankey flows one way; {' → '.join((*path, name))} loops back."
            )
        if name in done:
            return
        for target in following.get(name, ()):
            visit(target, (*path, name))
        done.add(name)

    for source in list(following):
        visit(source, ())


# Pieces of a spec ------------------------------------------------------------------------


def _number(value: Number) -> int | float | None:
    # JSON has no NaN or Infinity, and Decimal would arrive as a string: both become numbers
    # ECharts reads, or a gap.
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _item(value: Number, url: str | None, **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"value": _number(value), **extra}
    if url and item["value"] is not None:
        item["drill"] = url
    return item


def _value_axis(name: str, *, percent: bool = False, horizontal: bool = False) -> dict[str, Any]:
    axis: dict[str, Any] = {"type": "value", "name": name}
    if horizontal:
        axis.update(nameLocation="middle", nameGap=28)
    if percent:
        axis.update(min=0, max=100, axisLabel={"formatter": "{value}%"})
    return axis


def _cartesian_option(
    *,
    category_axis: dict[str, Any],
    value_axis: dict[str, Any],
    legend: bool,
    horizontal: bool = False,
    pointer: str = "shadow",
) -> dict[str, Any]:
    return {
        "color": PALETTE,
        "backgroundColor": "transparent",
        "tooltip": {"trigger": "axis", "axisPointer": {"type": pointer}, "confine": True},
        "legend": {"show": legend, "top": 0, "type": "scroll"},
        # Axis labels and names stay inside the grid's box, which leaves room for the legend.
        "grid": {
            "left": 8,
            "right": 16,
            "top": 32 if legend else 8,
            "bottom": 8,
            "outerBoundsMode": "same",
        },
        "xAxis": value_axis if horizontal else category_axis,
        "yAxis": category_axis if horizontal else value_axis,
        "series": [],
    }


def _mark_line(axis: str, value: Any, label: str, suffix: str) -> dict[str, Any]:
    # The label goes in the data item's name and the formatter only refers to it, so text
    # from the caller is never read as an ECharts template.
    return {
        "silent": True,
        "symbol": "none",
        "lineStyle": {"color": REFERENCE_COLOR, "type": "dashed", "width": 1.5},
        "label": {
            "formatter": "{b}" if label else "{c}" + suffix,
            # A vertical line's label sits above it, upright; a horizontal one's along it.
            "position": "end" if axis == "xAxis" else "insideEndTop",
            "color": REFERENCE_COLOR,
        },
        "data": [{axis: value, "name": label}],
    }


def _mark_partial(
    option: dict[str, Any],
    categories: Sequence[str],
    partial: Sequence[int],
    *,
    bands: bool,
    horizontal: bool = False,
) -> None:
    """Shade the partial categories, labelled "partial": a bar's band, or for a line the
    segment that ends at the point (starts at it, for the first point)."""
    if not partial or not option["series"]:
        return
    for i in partial:
        if not 0 <= i < len(categories):
            raise ValueError(f"partial names category {i}; there are {len(categories)}.")
    axis = "yAxis" if horizontal else "xAxis"
    areas = []
    for i in sorted(set(partial)):
        if bands or len(categories) == 1:
            start = end = i
        else:
            start, end = (i - 1, i) if i > 0 else (0, 1)
        areas.append([{axis: categories[start], "name": "partial"}, {axis: categories[end]}])
    option["series"][0]["markArea"] = {
        "silent": True,
        "itemStyle": {"color": PARTIAL_SHADE},
        # Wider than a narrow band: the word is not cut to fit it.
        "label": {
            "formatter": "{b}",
            "color": REFERENCE_COLOR,
            "position": "insideTop",
            "fontSize": 11,
            "overflow": "none",
        },
        "data": areas,
    }


def _partial_words(categories: Sequence[str], partial: Sequence[int], table: dict) -> str:
    """The sentence naming the partial categories, for the summary and the table's caption."""
    if not partial:
        return ""
    names = [categories[i] for i in sorted(set(partial))]
    words = (
        f"Partial: {_join(names)} count{'s' if len(names) == 1 else ''} only part of "
        f"{'its' if len(names) == 1 else 'their'} month, as labelled; nothing is estimated"
    )
    table["caption"] = " ".join(part for part in (table["caption"], words + ".") if part)
    return f" {words}."


def _mark_caption(label: str, at: str) -> str:
    return f"{label or 'Reference line'} at {at}"


def _series_options(
    entry: dict[str, Any],
    index: int,
    stacked: bool,
    suffix: str,
    axis: str,
    mark_line: float | None,
    mark_label: str,
) -> None:
    """What a line's or a bar's series entry shares: the stack, the value suffix, and the
    reference line, drawn once (on the first series) along `axis`."""
    if stacked:
        entry["stack"] = "total"
    if suffix:
        entry["valueSuffix"] = suffix
    if index == 0 and mark_line is not None:
        entry["markLine"] = _mark_line(axis, _number(mark_line), mark_label, suffix)


def _marked_spec(
    kind: str,
    title: str,
    option: dict,
    table: dict,
    summary: str,
    mark: str | None,
    mark_label: str,
) -> Spec:
    """The chart's spec; a reference line at `mark` (if any) is told in the table's caption
    and at the end of the summary, in the same words."""
    if mark is not None:
        caption = _mark_caption(mark_label, mark)
        table["caption"] = f"{caption}. {table['caption']}" if table["caption"] else caption
        summary += f" {caption}."
    return _spec(kind, title, option, table, summary)


def _series_table(
    first_header: str,
    keys: list[str],
    series: Mapping[str, Sequence[Number]],
    links: dict[str, list[str | None]],
    suffix: str,
) -> dict[str, Any]:
    rows, table_links = [], []
    for i, key in enumerate(keys):
        numbers = [_number(values[i]) for values in series.values()]
        urls = [links[name][i] if name in links else None for name in series]
        rows.append([key, *(_fmt(number, suffix) for number in numbers)])
        # A gap has nothing to drill into.
        table_links.append(
            [None, *(url if n is not None else None for n, url in zip(numbers, urls, strict=True))]
        )
    return _table([first_header, *series], rows, table_links)


def _table(headers: list[str], rows: list[list[str]], links: list[list[str | None]]) -> dict:
    return {"headers": headers, "rows": rows, "links": links, "caption": ""}


def _spec(kind: str, title: str, option: dict, table: dict, aria_label: str) -> Spec:
    return {
        "kind": kind,
        "title": title,
        "option": option,
        "table": table,
        "aria_label": aria_label,
    }


def _fmt(value: Number, suffix: str = "") -> str:
    """A number as the table shows it: thousands separated, at most two decimals."""
    value = _number(value)
    if value is None:
        return "–"
    if isinstance(value, float):
        if value.is_integer():
            value = int(value)
        else:
            return f"{value:,.2f}".rstrip("0").rstrip(".") + suffix
    return f"{value:,}{suffix}"


def _join(parts: list[str]) -> str:
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _plural(noun: str) -> str:
    noun = noun.lower()
    if noun.endswith("y") and not noun.endswith(("ay", "ey", "oy")):
        return noun[:-1] + "ies"
    return noun if noun.endswith("s") else noun + "s"
