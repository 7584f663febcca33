"""Running work with its progress bars shown in an ``Output`` widget, without losing its exception.

In a kernel (JupyterLab, Voilà), ``ipywidgets.Output`` used as a context manager prints an exception raised inside
it as a traceback in the widget and swallows it. A form that reads a range inside ``with output:`` would then go on
as if the work had succeeded. :func:`run_with_bars` catches the exception inside the block and raises it after, so the
form shows its own one-line message; the bars are cleared either way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import ipywidgets as w

__all__ = ["run_with_bars"]

T = TypeVar("T")


def run_with_bars(output: w.Output, work: Callable[[], T]) -> T:
    """``work()`` with whatever it displays (tqdm's bars in a kernel) shown in ``output``, cleared when it ends."""
    output.clear_output()
    failure: BaseException | None = None
    results: list[T] = []
    try:
        with output:
            try:
                results.append(work())
            except BaseException as exc:  # kept, and raised again below: outside the widget
                failure = exc
    finally:
        # the bars are closed now: clear them (in a kernel the front end holds what was captured, so clear_output,
        # not assigning .outputs, is what empties it)
        output.clear_output()
    if failure is not None:
        raise failure
    return results[0]
