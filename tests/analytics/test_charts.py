"""The chart builders give ECharts what it needs, and the table the same numbers."""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.template import Context, Engine, TemplateSyntaxError

from refloop.analytics import charts

MONTHS = ["2026-01", "2026-02", "2026-03"]
ENGINE = Engine(
    dirs=[str(Path(charts.__file__).resolve().parent / "templates")],
    libraries={"analytics_charts": "refloop.analytics.templatetags.analytics_charts"},
)


def render_chart(spec, height="320px"):
    template = ENGINE.from_string("{% load analytics_charts %}{% chart spec height=height %}")
    return template.render(Context({"spec": spec, "height": height}))


def values(series):
    return [item["value"] for item in series["data"]]


def drills(series):
    return [item.get("drill") for item in series["data"]]


def test_every_spec_is_plain_json_with_a_table_and_a_summary():
    specs = [
        charts.line("Volume", MONTHS, {"Fax": [1, 2, 3]}, y_name="Referrals"),
        charts.bar("By department", ["Spine"], {"Count": [4]}, y_name="Referrals"),
        charts.funnel("Funnel", ["Received", "Seen"], [10, 8], [0, 2]),
        charts.pareto("Declines", ["A", "B"], [3, 1]),
        charts.sankey("Flow", ["Fax", "Spine"], [("Fax", "Spine", 5)]),
        charts.histogram("Hours", ["0–4 h", "4–8 h"], [5, 2]),
        charts.donut("Channels", ["Fax", "Portal"], [3, 1]),
    ]
    for spec in specs:
        assert json.loads(json.dumps(spec)) == spec
        assert spec["option"]["series"]
        assert spec["option"]["color"] == charts.PALETTE
        assert spec["aria_label"].startswith(spec["title"] + ". ")
        assert spec["table"]["headers"] and spec["table"]["rows"]
        for row, links in zip(spec["table"]["rows"], spec["table"]["links"], strict=True):
            assert len(row) == len(links) == len(spec["table"]["headers"])
            assert all(isinstance(cell, str) for cell in row)


def test_line_has_one_series_per_entry_with_drill_urls_aligned_to_the_points():
    spec = charts.line(
        "Referrals per month",
        MONTHS,
        {"Fax": [40, None, 38.5], "Portal": [10, 14, 18]},
        y_name="Referrals",
        drill={"Fax": ["/r/?m=1", "/r/?m=2", "/r/?m=3"]},
        stacked=True,
        area=True,
    )
    option = spec["option"]
    assert option["xAxis"] == {"type": "category", "data": MONTHS, "boundaryGap": False}
    assert option["yAxis"]["name"] == "Referrals"
    assert option["legend"]["show"] is True
    fax, portal = option["series"]
    assert [s["type"] for s in (fax, portal)] == ["line", "line"]
    assert [s["name"] for s in (fax, portal)] == ["Fax", "Portal"]
    assert values(fax) == [40, None, 38.5]
    # A gap has no point to click.
    assert drills(fax) == ["/r/?m=1", None, "/r/?m=3"]
    assert drills(portal) == [None, None, None]
    assert fax["cursor"] == "pointer" and portal["cursor"] == "default"
    assert fax["stack"] == portal["stack"] == "total"
    assert "areaStyle" in fax
    assert spec["table"]["headers"] == ["Period", "Fax", "Portal"]
    assert spec["table"]["rows"] == [
        ["2026-01", "40", "10"],
        ["2026-02", "–", "14"],
        ["2026-03", "38.5", "18"],
    ]
    assert spec["table"]["links"] == [
        [None, "/r/?m=1", None],
        [None, None, None],
        [None, "/r/?m=3", None],
    ]
    assert "from 2026-01 to 2026-03" in spec["aria_label"]


def test_line_mark_line_draws_the_target_with_its_label_as_data_not_as_a_template():
    spec = charts.line(
        "Contacted within SLA",
        MONTHS,
        {"Within SLA": [80, 85, 91]},
        y_name="% of referrals",
        percent=True,
        mark_line=90,
        mark_label="SLA target {a}",
    )
    series = spec["option"]["series"][0]
    mark = series["markLine"]
    assert mark["data"] == [{"yAxis": 90, "name": "SLA target {a}"}]
    assert mark["label"]["formatter"] == "{b}"
    assert series["valueSuffix"] == "%"
    assert spec["option"]["yAxis"]["max"] == 100
    assert spec["table"]["rows"][2] == ["2026-03", "91%"]
    assert spec["table"]["caption"] == "SLA target {a} at 90%"
    assert "SLA target {a} at 90%" in spec["aria_label"]


def test_horizontal_bar_puts_categories_top_down_and_marks_on_the_value_axis():
    spec = charts.bar(
        "Referrals by practice",
        ["Prairie", "Riverside"],
        {"Referrals": [30, 12]},
        y_name="Referrals",
        x_name="Practice",
        horizontal=True,
        mark_line=20,
    )
    option = spec["option"]
    assert option["yAxis"] == {
        "type": "category",
        "data": ["Prairie", "Riverside"],
        "inverse": True,
    }
    assert option["xAxis"]["type"] == "value"
    assert option["series"][0]["markLine"]["data"] == [{"xAxis": 20, "name": ""}]
    assert spec["table"]["headers"] == ["Practice", "Referrals"]
    assert "Highest: Prairie (30)" in spec["aria_label"]


def test_bar_drill_and_decimal_values_become_plain_numbers():
    spec = charts.bar(
        "Acceptance",
        ["Spine", "Hand"],
        {"Accepted": [Decimal("92.50"), float("nan")]},
        y_name="% accepted",
        percent=True,
        drill={"Accepted": ["/d/1/", "/d/2/"]},
    )
    series = spec["option"]["series"][0]
    assert values(series) == [92.5, None]
    assert drills(series) == ["/d/1/", None]
    assert spec["table"]["rows"] == [["Spine", "92.5%"], ["Hand", "–"]]


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "https://elsewhere.example/", "//elsewhere.example/", "/a b", "r/1"],
)
def test_drill_urls_must_be_paths_on_this_site(url):
    with pytest.raises(ValueError, match="path on this site"):
        charts.donut("Channels", ["Fax"], [1], drill=[url])


def test_mismatched_lengths_are_refused():
    with pytest.raises(ValueError, match="Series 'Fax' has 2 values for 3 x"):
        charts.line("Volume", MONTHS, {"Fax": [1, 2]}, y_name="Referrals")
    with pytest.raises(ValueError, match="has 1 values for 2 categories"):
        charts.bar("B", ["a", "b"], {"S": [1, 2]}, y_name="n", drill={"S": ["/x/"]})
    with pytest.raises(ValueError, match="not charted"):
        charts.bar("B", ["a"], {"S": [1]}, y_name="n", drill={"T": ["/x/"]})


def test_funnel_is_horizontal_stacked_bars_of_reached_and_lost():
    spec = charts.funnel(
        "From receipt to closed loop",
        ["Received", "Accepted", "Seen"],
        [100, 80, 60],
        [0, 20, 20],
        drill={"lost": [None, "/lost/accepted/", "/lost/seen/"]},
    )
    option = spec["option"]
    assert option["yAxis"]["data"] == ["Received", "Accepted", "Seen"]
    assert option["yAxis"]["inverse"] is True
    reached, lost = option["series"]
    assert (reached["type"], lost["type"]) == ("bar", "bar")
    assert reached["stack"] == lost["stack"]
    assert values(reached) == [100, 80, 60]
    assert values(lost) == [0, 20, 20]
    assert drills(lost) == [None, "/lost/accepted/", "/lost/seen/"]
    assert drills(reached) == [None, None, None]
    assert lost["data"][0]["label"] == {"show": False}
    assert reached["itemStyle"]["color"] == charts.REACHED_COLOR
    assert lost["itemStyle"]["color"] == charts.LOST_COLOR
    assert spec["table"]["headers"] == ["Stage", "Reached", "Lost", "% of first stage"]
    assert spec["table"]["rows"][2] == ["Seen", "60", "20", "60%"]
    assert spec["table"]["links"][1] == [None, None, "/lost/accepted/", None]


def test_funnel_detours_are_a_table_beside_the_stages_not_stages():
    spec = charts.funnel(
        "From receipt to closed loop",
        ["Received", "Accepted"],
        [100, 80],
        [10, 5],
        detours=[
            {
                "label": "In review",
                "after": "Received",
                "reached": 40,
                "share": 0.4,
                "lost": 3,
                "median_hours": 12.5,
                "drill": "/review/",
            }
        ],
    )
    assert spec["option"]["yAxis"]["data"] == ["Received", "Accepted"]
    assert spec["detours"]["rows"] == [["In review", "Received", "40", "40%", "3", "12.5 h"]]
    assert spec["detours"]["links"] == [[None, None, "/review/", None, None, None]]
    assert "In review after Received, 40 referrals" in spec["aria_label"]
    with pytest.raises(ValueError, match="leaves from a stage of the funnel"):
        charts.funnel("F", ["Received"], [1], [0], detours=[{**DETOUR, "after": "Seen"}])
    with pytest.raises(ValueError):
        charts.funnel("F", ["Received"], [1], [0], detours=[{**DETOUR, "drill": "https://x"}])


DETOUR = {
    "label": "In review",
    "after": "Received",
    "reached": 1,
    "share": 1.0,
    "lost": 0,
    "median_hours": None,
}


def test_pareto_sorts_descending_and_draws_the_cumulative_share_on_a_second_axis():
    spec = charts.pareto(
        "Why referrals were declined",
        ["Other", "Out of network", "Missing records", "Wrong department"],
        [5, 50, 15, 30],
        drill=["/why/other/", "/why/network/", "/why/records/", "/why/department/"],
    )
    option = spec["option"]
    assert option["xAxis"]["data"] == [
        "Out of network",
        "Wrong department",
        "Missing records",
        "Other",
    ]
    bars, cumulative = option["series"]
    assert bars["type"] == "bar" and cumulative["type"] == "line"
    assert values(bars) == [50, 30, 15, 5]
    assert drills(bars) == ["/why/network/", "/why/department/", "/why/records/", "/why/other/"]
    assert cumulative["data"] == [50, 80, 95, 100]
    assert cumulative["yAxisIndex"] == 1
    assert option["yAxis"][1]["min"] == 0 and option["yAxis"][1]["max"] == 100
    assert cumulative["markLine"]["data"] == [{"yAxis": 80, "name": "80%"}]
    assert spec["table"]["rows"][1] == ["Wrong department", "30", "80%"]
    assert "the first 2 of 4 make up 80% or more" in spec["aria_label"]


def test_cumulative_shares_round_to_one_decimal_and_survive_an_empty_total():
    assert charts.cumulative_shares([50, 30, 15, 5]) == [50, 80, 95, 100]
    assert charts.cumulative_shares([1, 1, 1]) == [33.3, 66.7, 100]
    assert charts.cumulative_shares([0, 0]) == [0, 0]
    spec = charts.pareto("Nothing yet", ["A"], [0], cutoff_share=0.9)
    assert spec["option"]["series"][1]["markLine"]["data"] == [{"yAxis": 90, "name": "90%"}]


def test_sankey_splits_a_name_found_on_both_sides_and_keeps_its_label():
    spec = charts.sankey(
        "Transfers between departments",
        ["Spine", "Hand", "Pain"],
        [("Spine", "Hand", 12), ("Hand", "Spine", 7), ("Spine", "Pain", 20)],
        drill={("Spine", "Pain"): "/transfers/?from=1&to=3"},
    )
    series = spec["option"]["series"][0]
    assert series["type"] == "sankey"
    names = [node["name"] for node in series["data"]]
    assert names == ["Spine", "Hand", "Spine (to)", "Hand (to)", "Pain"]
    assert len(set(names)) == len(names)
    assert [node.get("display", node["name"]) for node in series["data"]] == [
        "Spine",
        "Hand",
        "Spine",
        "Hand",
        "Pain",
    ]
    # Each department keeps one colour on both sides.
    colours = {node["name"]: node["itemStyle"]["color"] for node in series["data"]}
    assert colours["Spine"] == colours["Spine (to)"] != colours["Hand"] == colours["Hand (to)"]
    assert series["links"] == [
        {"source": "Spine", "target": "Hand (to)", "value": 12},
        {"source": "Hand", "target": "Spine (to)", "value": 7},
        {"source": "Spine", "target": "Pain", "value": 20, "drill": "/transfers/?from=1&to=3"},
    ]
    assert spec["table"]["rows"] == [
        ["Spine", "Hand", "12"],
        ["Hand", "Spine", "7"],
        ["Spine", "Pain", "20"],
    ]
    assert spec["table"]["links"][2] == [None, None, "/transfers/?from=1&to=3"]
    assert "The largest is Spine to Pain (20)" in spec["aria_label"]


def test_sankey_suffix_never_collides_with_another_node():
    spec = charts.sankey("Flow", ["A", "A (to)"], [("A", "A", 1), ("A (to)", "A", 2)], drill=None)
    names = [node["name"] for node in spec["option"]["series"][0]["data"]]
    assert names == ["A", "A (to)", "A (to) (to)"]


def test_multistage_sankey_keeps_a_middle_node_whole_and_refuses_a_loop():
    links = [("Received", "Triaged", 10), ("Triaged", "Accepted", 7), ("Triaged", "Declined", 3)]
    nodes = ["Received", "Triaged", "Accepted", "Declined"]
    spec = charts.sankey("States", nodes, links, multistage=True)
    series = spec["option"]["series"][0]
    assert [node["name"] for node in series["data"]] == nodes
    assert series["links"][1] == {"source": "Triaged", "target": "Accepted", "value": 7}
    with pytest.raises(ValueError, match="loops back"):
        charts.sankey("Loop", ["A", "B"], [("A", "B", 1), ("B", "A", 1)], multistage=True)


def test_sankey_refuses_unknown_nodes_and_drill_for_a_missing_flow():
    with pytest.raises(ValueError, match="not a node"):
        charts.sankey("Flow", ["A"], [("A", "B", 1)])
    with pytest.raises(ValueError, match="not a link"):
        charts.sankey("Flow", ["A", "B"], [("A", "B", 1)], drill={("B", "A"): "/x/"})


def test_histogram_marks_the_sla_bin():
    bins = ["0–4 h", "4–8 h", "8–24 h", "24 h +"]
    spec = charts.histogram(
        "Hours to first contact", bins, [10, 6, 3, 1], mark_line_at="4–8 h", mark_label="SLA"
    )
    series = spec["option"]["series"][0]
    assert series["type"] == "bar"
    assert spec["option"]["xAxis"]["data"] == bins
    assert values(series) == [10, 6, 3, 1]
    assert series["markLine"]["data"] == [{"xAxis": "4–8 h", "name": "SLA"}]
    assert spec["table"]["rows"] == [[b, str(c)] for b, c in zip(bins, [10, 6, 3, 1], strict=True)]
    assert spec["table"]["caption"] == "SLA at 4–8 h"
    with pytest.raises(ValueError, match="one of the bins"):
        charts.histogram("Hours", bins, [1, 1, 1, 1], mark_line_at="9 h")


def test_donut_shares_add_up_to_100_as_echarts_labels_them():
    spec = charts.donut(
        "Referrals by channel",
        ["Fax", "Portal", "Phone", "Email"],
        [120, 60, 30, 10],
        drill=["/c/fax/", "/c/portal/", None, "/c/email/"],
    )
    series = spec["option"]["series"][0]
    assert series["type"] == "pie"
    assert series["radius"] == ["45%", "70%"]
    assert [item["name"] for item in series["data"]] == ["Fax", "Portal", "Phone", "Email"]
    assert drills(series) == ["/c/fax/", "/c/portal/", None, "/c/email/"]
    # 4.545… rounds up to 4.6 so the four shares make 100, as in the chart's labels.
    assert [row[2] for row in spec["table"]["rows"]] == ["54.5%", "27.3%", "13.6%", "4.6%"]
    assert charts.percent_shares([1, 1, 1]) == [33.4, 33.3, 33.3]


def test_chart_tag_renders_a_labelled_container_the_json_and_the_table():
    spec = charts.bar(
        "Referrals by department",
        ["Spine", "Hand"],
        {"Referrals": [3, 4]},
        y_name="Referrals",
        x_name="Department",
        drill={"Referrals": ["/r/?department=1", None]},
    )
    html = render_chart(spec, height="240px")
    assert "<figure" in html and "<figcaption>Referrals by department</figcaption>" in html
    assert 'class="chart" data-chart data-height="240px" role="img"' in html
    assert f'aria-label="{spec["aria_label"]}"' in html
    assert "<summary>Show as table</summary>" in html
    assert '<th scope="col">Department</th>' in html
    assert '<th scope="row">Spine</th><td><a href="/r/?department=1">3</a></td>' in html
    assert '<th scope="row">Hand</th><td>4</td>' in html
    payload = html.split('<script type="application/json">')[1].split("</script>")[0]
    assert json.loads(payload) == {"kind": "bar", "option": spec["option"]}


def test_chart_tag_escapes_text_that_could_end_the_script_or_the_attribute():
    title = 'Hostile </script><script>alert("x")</script>'
    spec = charts.donut(title, ['</script>"&'], [1])
    html = render_chart(spec)
    assert html.count("<script") == 1
    assert "<script>alert" not in html
    assert "\\u003C/script\\u003E" in html
    assert 'aria-label="Hostile &lt;/script&gt;' in html


def test_chart_tag_refuses_a_height_that_is_not_a_length():
    spec = charts.donut("Channels", ["Fax"], [1])
    with pytest.raises(TemplateSyntaxError, match="CSS length"):
        render_chart(spec, height="320px; background:red")
