"""Percentiles as docs/design.md defines them (linear interpolation between closest ranks):
PostgreSQL's percentile_cont, or on SQLite (which has none) the column's values read
once and interpolated here.
"""

import math
from collections import defaultdict
from collections.abc import Sequence

from django.db import connection
from django.db.models import Aggregate, Count, FloatField, QuerySet


class PercentileCont(Aggregate):
    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression, fraction: float, **extra):
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def interpolate(ordered: Sequence[float], p: float) -> float | None:
    """The p-th percentile of already sorted values (numpy's default method)."""
    if not ordered:
        return None
    position = p * (len(ordered) - 1)
    low = math.floor(position)
    high = math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def percentiles(
    qs: QuerySet, columns: Sequence[str], ps: Sequence[float] = (0.5, 0.9)
) -> dict[str, dict]:
    """{column: {"count": n, "p50": …, "p90": …}} over the rows of `qs` where the column
    is not null."""
    result: dict[str, dict] = {}
    if _postgres():
        # Counts and percentiles in one pass over the rows.
        aggregates: dict[str, Aggregate] = {}
        for column in columns:
            aggregates[f"{column}__count"] = Count(column)
            for p in ps:
                aggregates[f"{column}__p{round(p * 100)}"] = PercentileCont(column, p)
        values = qs.aggregate(**aggregates) if aggregates else {}
        for column in columns:
            result[column] = {"count": values[f"{column}__count"]} | {
                f"p{round(p * 100)}": values[f"{column}__p{round(p * 100)}"] for p in ps
            }
        return result
    # SQLite: each column's values read once and sorted here (an ORDER BY … OFFSET per
    # percentile sorted the whole period again for every figure).
    for column in columns:
        sql, params = (
            qs.filter(**{f"{column}__isnull": False}).order_by().values_list(column).query
        ).sql_with_params()
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            ordered = sorted(value for (value,) in cursor.fetchall())
        result[column] = {"count": len(ordered)} | {
            f"p{round(p * 100)}": interpolate(ordered, p) for p in ps
        }
    return result


def grouped_percentiles(
    qs: QuerySet, group: Sequence[str], column: str, ps: Sequence[float] = (0.5,)
) -> dict[tuple, dict]:
    """{group values: {"count": n, "p50": …}} for each group that has a value."""
    found = grouped_figures(qs.filter(**{f"{column}__isnull": False}), group, [column], ps)
    return {key: figures[column] for key, figures in found.items()}


def grouped_figures(
    qs: QuerySet,
    group: Sequence[str],
    columns: Sequence[str],
    ps: Sequence[float] = (0.5,),
    extra: dict[str, Aggregate] | None = None,
) -> dict[tuple, dict]:
    """{group values: {column: {"count", "p50", …}, name: value of each `extra`
    aggregate}} for each group of `qs`, in one pass on PostgreSQL. A column a group has
    no value of counts 0 with None percentiles."""
    extra = extra or {}
    rows = qs.order_by().values(*group)
    if _postgres():
        aggregates = dict(extra)
        for column in columns:
            aggregates[f"{column}__count"] = Count(column)
            for p in ps:
                aggregates[f"{column}__p{round(p * 100)}"] = PercentileCont(column, p)
        result = {}
        for row in rows.annotate(**aggregates):
            result[tuple(row[g] for g in group)] = {name: row[name] for name in extra} | {
                column: {"count": row[f"{column}__count"]}
                | {f"p{round(p * 100)}": row[f"{column}__p{round(p * 100)}"] for p in ps}
                for column in columns
            }
        return result
    # SQLite: the groups and extras in one query, then each column's values read once.
    result = {
        tuple(row[g] for g in group): {name: row[name] for name in extra}
        | {column: {"count": 0} | {f"p{round(p * 100)}": None for p in ps} for column in columns}
        for row in rows.annotate(_rows=Count("pk"), **extra)
    }
    for column in columns:
        values: dict[tuple, list[float]] = defaultdict(list)
        present = qs.filter(**{f"{column}__isnull": False}).order_by(*group, column)
        for row in present.values_list(*group, column):
            values[row[:-1]].append(row[-1])
        for key, ordered in values.items():
            result[key][column] = {"count": len(ordered)} | {
                f"p{round(p * 100)}": interpolate(ordered, p) for p in ps
            }
    return result


def percentiles_by_sets(
    qs: QuerySet, sets: Sequence[tuple[str, ...]], column: str, p: float = 0.5
) -> dict[tuple[str, ...], dict[tuple, dict]]:
    """grouped_percentiles for several groupings in one pass over the rows:
    {grouping: {group values: {"count", "p50"}}}. PostgreSQL groups by GROUPING SETS;
    SQLite reads the rows once and groups them here."""
    dims = list(dict.fromkeys(d for grouping in sets for d in grouping))
    present = qs.filter(**{f"{column}__isnull": False}).order_by()
    label = f"p{round(p * 100)}"
    result: dict[tuple[str, ...], dict[tuple, dict]] = {grouping: {} for grouping in sets}
    if _postgres():
        inner, params = present.values(*dims, column).query.sql_with_params()
        quote = connection.ops.quote_name
        columns = ", ".join(quote(d) for d in dims)
        grouping_sets = ", ".join(f"({', '.join(quote(d) for d in g)})" for g in sets)
        sql = (
            f"SELECT {columns}, GROUPING({columns}), COUNT(*), "  # noqa: S608 (our columns)
            f"PERCENTILE_CONT({float(p)!r}) WITHIN GROUP (ORDER BY {quote(column)}) "
            f"FROM ({inner}) rows GROUP BY GROUPING SETS ({grouping_sets})"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            for row in cursor.fetchall():
                values, mask, count, value = row[: len(dims)], row[len(dims)], row[-2], row[-1]
                # GROUPING() sets a bit, first dimension highest, for each one left out.
                used = tuple(d for i, d in enumerate(dims) if not mask & (1 << (len(dims) - 1 - i)))
                grouping = next(g for g in sets if set(g) == set(used))
                key = tuple(values[dims.index(d)] for d in grouping)
                result[grouping][key] = {"count": count, label: value}
        return result
    collected: dict[tuple[str, ...], dict[tuple, list[float]]] = {
        g: defaultdict(list) for g in sets
    }
    for row in present.order_by(column).values_list(*dims, column):
        for grouping in sets:
            collected[grouping][tuple(row[dims.index(d)] for d in grouping)].append(row[-1])
    for grouping, groups in collected.items():
        for key, ordered in groups.items():
            result[grouping][key] = {"count": len(ordered), label: interpolate(ordered, p)}
    return result
