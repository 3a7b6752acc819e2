"""The dashboard's headline figures, each against the period before when the data covers
both periods (analytics.coverage; otherwise `previous` is None and no figure is compared).
A figure may be the analyst's "<11" or "suppressed" (analytics.privacy): it is shown as it
is and compared with nothing."""

from refloop.analytics.metrics import Scope
from refloop.analytics.privacy import is_hidden
from refloop.analytics.selection import drill_url

# better: which way is good news (None: neither, e.g. concentration is a risk, not a score)
UP_IS_GOOD, DOWN_IS_GOOD, NEUTRAL = "up", "down", None


def _count(value) -> str:
    if is_hidden(value):
        return value
    return "–" if value is None else f"{value:,}"


def _percent(value) -> str:
    if is_hidden(value):
        return value
    return "–" if value is None else f"{value * 100:.1f}%"


def _hours(value) -> str:
    if is_hidden(value):
        return value
    if value is None:
        return "–"
    return f"{value:.1f} hours" if value < 48 else f"{value / 24:.1f} days"


def figure(name: str, now, before, fmt, better) -> dict:
    """One number with the previous period's and which way it moved."""
    change = None
    if is_hidden(now) or is_hidden(before):
        words = "" if is_hidden(now) and before is None else f"before: {fmt(before)}"
        return {
            "name": name,
            "value": fmt(now),
            "previous": fmt(before),
            "change": None,
            "tone": "",
            "words": words,
        }
    if now is not None and before is not None:
        change = "same" if round(now, 4) == round(before, 4) else ("up" if now > before else "down")
    tone = ""
    if change in ("up", "down") and better:
        tone = "good" if change == better else "bad"
    words = {
        "up": f"up from {fmt(before)}",
        "down": f"down from {fmt(before)}",
        "same": f"the same as before ({fmt(before)})",
        None: "no figure for the previous period" if before is None else "",
    }[change]
    return {
        "name": name,
        "value": fmt(now),
        "previous": fmt(before),
        "change": change,
        "tone": tone,
        "words": words,
    }


def alone(name: str, now, fmt) -> dict:
    """One number not compared with anything (the period before is not covered)."""
    return {
        "name": name,
        "value": fmt(now),
        "previous": None,
        "change": None,
        "tone": "",
        "words": "",
    }


def build(figures: dict, previous: dict | None, scope: Scope) -> list[dict]:
    """Tiles of the headline metrics; `figures` and `previous` are metrics.compute() results,
    `previous` None when the period before is not compared."""
    compared = previous is not None
    previous = previous if previous is not None else _EMPTY

    def compare(name: str, now, before, fmt, better) -> dict:
        return figure(name, now, before, fmt, better) if compared else alone(name, now, fmt)

    def clock(key: str, title: str) -> dict:
        now, before = figures[key], previous[key]
        return {
            "title": title,
            "figures": [
                compare(
                    "Median", now["median_hours"], before["median_hours"], _hours, DOWN_IS_GOOD
                ),
                compare(
                    "90th percentile", now["p90_hours"], before["p90_hours"], _hours, DOWN_IS_GOOD
                ),
            ],
            "note": f"{_count(now['count'])} referrals measured",
        }

    def single(title: str, key: str, field: str, fmt, better, **rest) -> dict:
        """A tile of one unnamed figure, figures[key][field] against the period before."""
        now, before = figures[key][field], previous[key][field]
        return {"title": title, "figures": [compare("", now, before, fmt, better)], **rest}

    def rate(title: str, key: str, better, **rest) -> dict:
        return single(title, key, "rate", _percent, better, **rest)

    def count(title: str, key: str, better, **rest) -> dict:
        return single(title, key, "count", _count, better, **rest)

    show, show_before = figures["show_rate"], previous["show_rate"]
    return [
        count("Referrals received", "volume", UP_IS_GOOD, url=drill_url(scope)),
        rate(
            "Conversion to a visit",
            "conversion",
            UP_IS_GOOD,
            note=f"{_count(figures['conversion']['seen'])} seen",
            url=drill_url(scope, reached="seen"),
        ),
        clock("time_to_first_contact", "Time to first contact"),
        clock("time_to_schedule", "Time to schedule"),
        clock("time_to_appointment", "Time to appointment"),
        {
            "title": "Show rate",
            "figures": [
                compare(name, show[group]["rate"], show_before[group]["rate"], _percent, UP_IS_GOOD)
                for name, group in (("Referred", "referred"), ("Non-referred", "non_referred"))
            ],
        },
        rate(
            "Loop closed within 7 days",
            "loop_closure",
            UP_IS_GOOD,
            note=f"of {_count(figures['loop_closure']['seen'])} seen",
            url=drill_url(scope, closure="not_closed"),
            url_label="Not closed",
        ),
        rate(
            "Leakage (out of network)",
            "leakage",
            DOWN_IS_GOOD,
            note=f"of {_count(figures['leakage']['sent'])} sent out",
            url=drill_url(scope, outbound=1, in_network=0),
        ),
        count("Lost referrals", "lost", DOWN_IS_GOOD, url=drill_url(scope, lost=1)),
        single(
            "Share from the top 20% of providers",
            "concentration",
            "top_share",
            _percent,
            NEUTRAL,
            note=(
                f"top {figures['concentration']['top_providers']} of "
                f"{figures['concentration']['providers']} providers"
            ),
        ),
    ]


# What `previous` reads when nothing is compared: every figure missing.
_EMPTY: dict = {
    "volume": {"count": None},
    "conversion": {"rate": None},
    "time_to_first_contact": {"median_hours": None, "p90_hours": None},
    "time_to_schedule": {"median_hours": None, "p90_hours": None},
    "time_to_appointment": {"median_hours": None, "p90_hours": None},
    "show_rate": {"referred": {"rate": None}, "non_referred": {"rate": None}},
    "loop_closure": {"rate": None},
    "leakage": {"rate": None},
    "lost": {"count": None},
    "concentration": {"top_share": None},
}
