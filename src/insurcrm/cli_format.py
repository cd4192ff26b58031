"""Small formatting pieces the command line's modules share."""

from __future__ import annotations

from decimal import Decimal

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

__all__ = ["progress_bar", "share"]


def share(part: Decimal | int, whole: Decimal | int) -> str:
    """``part`` as a percentage of ``whole`` with one decimal, e.g. ``12.5 %``; – for 0."""
    if not whole:
        return "–"
    return f"{Decimal(part) * 100 / Decimal(whole):.1f} %"


def progress_bar(console: Console) -> Progress:
    """A bar that shows the task's description, done of total and time, then disappears."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
