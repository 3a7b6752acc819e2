"""Small-cell suppression for analytics exports: which figures a de-identified export
hides so that no count of fewer than 11 patients, referrals or appointments can be read
or worked back.

The rule, applied to a whole set of tables at once (an export's tables repeat each
other's totals):

1. **Primary.** A count of 1 to 10 is written "<11". Zero stays 0: an empty cell says
   nothing about anyone.
2. **Derived figures.** A rate, share, median, percentile, sum of money or sentence is
   written "suppressed" when any count it was computed from is 1 to 10, or is not
   known, or when any cell it was computed from is hidden (a rate next to its visible
   numerator would give the hidden denominator back).
3. **Complementary.** A `Total` says which cells add up to which total, in the same
   table (a row or column total) or in another (the summary's volume is the grand total
   of the volume by month). When exactly one cell of such a sum is hidden, part or
   total, it could be worked out by addition or subtraction, so one more cell is
   written "suppressed": the smallest visible part that is not zero (a hidden zero
   would give the difference back to anyone who guessed it); a zero only when every
   other visible part is zero; the total itself when no part is left visible. A figure
   shown in two tables is tied by a one-part total, so hiding it in one table hides it
   in the other.
4. Steps 2 and 3 repeat until nothing changes: a cell hidden to protect a row may leave
   its column, or a rate computed from it, giving it away.

Cells hidden in steps 2 and 3 may hold any value, so they say "suppressed", not "<11".
Every function here is pure: cells are named by `Cell` and the values come in a mapping.
"""

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from numbers import Number
from typing import NamedTuple

SMALL_MAX = 10
SMALL = "<11"
SUPPRESSED = "suppressed"


class Cell(NamedTuple):
    """One cell of one table: its key, the row and the column (both from 0)."""

    table: str
    row: int
    column: int


@dataclass(frozen=True)
class Basis:
    """What a derived figure was computed from: counts not shown as cells (None for a
    count that is not known) and cells of this or another table."""

    counts: tuple[int | None, ...] = ()
    cells: tuple[Cell, ...] = ()


@dataclass(frozen=True)
class Total:
    """`cell` is the sum of `parts` (and is shown)."""

    cell: Cell
    parts: tuple[Cell, ...]


def is_small(count: int | None) -> bool:
    """A count of 1 to 10."""
    return count is not None and 0 < count <= SMALL_MAX


def primary(values: Mapping[Cell, object], counts: Iterable[Cell]) -> dict[Cell, str]:
    """Step 1: every count cell holding 1 to 10, marked "<11"."""
    # `values` holds every cell of a row; the count cells among them hold an int or nothing.
    return {cell: SMALL for cell in counts if is_small(values.get(cell))}  # type: ignore[arg-type]


def derived_hidden(basis: Basis, hidden: Collection[Cell]) -> bool:
    """Step 2 for one figure: computed from a small or unknown count, or a hidden cell."""
    return any(count is None or is_small(count) for count in basis.counts) or any(
        cell in hidden for cell in basis.cells
    )


def complement(
    total: Total, values: Mapping[Cell, object], hidden: Collection[Cell]
) -> Cell | None:
    """Step 3 for one sum: the cell to hide so that its one hidden cell (a part or the
    total) cannot be recovered, or None when the sum needs nothing more."""
    if (total.cell in hidden) + sum(part in hidden for part in total.parts) != 1:
        return None
    visible = [
        part for part in total.parts if part not in hidden and isinstance(values.get(part), Number)
    ]
    if not visible:
        return total.cell
    return min(visible, key=lambda part: (values[part] == 0, values[part]))


def hide(
    values: Mapping[Cell, object],
    counts: Iterable[Cell],
    derived: Mapping[Cell, Basis],
    totals: Iterable[Total],
) -> dict[Cell, str]:
    """The cells an export must hide, each with what to write instead ("<11" or
    "suppressed"), by the rule of this module's docstring. A cell whose value is None
    (no figure) is never marked: there is nothing in it to hide."""
    hidden: dict[Cell, str] = primary(values, counts)
    totals = list(totals)
    changed = True
    while changed:
        changed = False
        for cell, basis in derived.items():
            if (
                cell not in hidden
                and values.get(cell) is not None
                and derived_hidden(basis, hidden)
            ):
                hidden[cell] = SUPPRESSED
                changed = True
        for total in totals:
            extra = complement(total, values, hidden)
            if extra is not None and values.get(extra) is not None:
                hidden[extra] = SUPPRESSED
                changed = True
    return hidden
