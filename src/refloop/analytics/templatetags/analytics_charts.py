"""`{% chart spec %}`: a chart from refloop.analytics.charts, with its numbers as a table."""

import re
from typing import Any

from django import template
from django.utils.html import json_script

register = template.Library()

CSS_LENGTH = re.compile(r"\d+(\.\d+)?(px|rem|em|vh|svh|dvh)")


@register.inclusion_tag("analytics/_chart.html")
def chart(spec: dict[str, Any], height: str = "320px") -> dict[str, Any]:
    """Render `spec` as a figure: the chart container, its option as JSON, a table of the numbers.

    The page loads vendor/echarts.min.js and analytics/charts.js, which draw the container.
    """
    if not CSS_LENGTH.fullmatch(height):
        raise template.TemplateSyntaxError(
            f"chart height is a CSS length such as 320px, not {height!r}."
        )
    if spec["kind"] == "withheld":
        return withheld(spec)
    table = spec["table"]
    rows = [
        [{"text": text, "href": href} for text, href in zip(row, links, strict=True)]
        for row, links in zip(table["rows"], table["links"], strict=True)
    ]
    return {
        "title": spec["title"],
        "aria_label": spec["aria_label"],
        "height": height,
        # Only what charts.js needs; json_script escapes <, > and & so no title can end the
        # script element early.
        "spec_json": json_script({"kind": spec["kind"], "option": spec["option"]}),
        "headers": table["headers"],
        "rows": rows,
        "caption": table.get("caption", ""),
        "detours": _rows(spec["detours"]) if "detours" in spec else None,
    }


def _rows(table: dict[str, Any]) -> dict[str, Any]:
    return {
        "headers": table["headers"],
        "caption": table["caption"],
        "rows": [
            [{"text": text, "href": href} for text, href in zip(row, links, strict=True)]
            for row, links in zip(table["rows"], table["links"], strict=True)
        ],
    }


def withheld(spec: dict[str, Any]) -> dict[str, Any]:
    """A chart an analyst may not see drawn (analytics.privacy): its export table instead,
    as the export writes it, or only a pointer to where that table already is."""
    table = spec["table"]
    return {
        "withheld": True,
        "title": spec["title"],
        "note": spec["note"],
        "headers": table.headers if spec["show_table"] else [],
        "rows": [[{"text": _cell(value)} for value in row] for row in table.rows]
        if spec["show_table"]
        else [],
    }


def _cell(value) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)
