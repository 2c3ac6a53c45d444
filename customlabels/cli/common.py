"""What the command groups share: the console, argparse types that refuse nonsense at parse time, and the options
that locate a deployed pipeline."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console

from customlabels.config import DEFAULT_STACK_NAME
from customlabels.errors import CommandError

console = Console()


def number(
    kind: type = float,
    *,
    at_least: float | None = None,
    above: float | None = None,
    at_most: float | None = None,
    hint: str = "",
):
    """An argparse type: a number in a range, refused at parse time with the range (and a hint) in words."""

    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a {'whole number' if kind is int else 'number'}"
            ) from None
        bounds = [
            f"at least {at_least:g}" if at_least is not None else "",
            f"above {above:g}" if above is not None else "",
            f"at most {at_most:g}" if at_most is not None else "",
        ]
        if (
            (at_least is not None and value < at_least)
            or (above is not None and value <= above)
            or (at_most is not None and value > at_most)
        ):
            wanted = " and ".join(bound for bound in bounds if bound)
            raise argparse.ArgumentTypeError(
                f"{text} is out of range: give a number {wanted}" + (f" ({hint})" if hint else "")
            )
        return value

    return parse


POSITIVE = number(int, at_least=1)
SECONDS = number(float, above=0)
FRACTION = number(float, above=0, at_most=1, hint="a fraction: 0.9 for 90%")
_PERCENT_RANGE = number(float, at_least=0, at_most=100, hint="a percent: 90 for 90%")


def PERCENT(text: str) -> float:
    """A percent from 0 to 100. A value below 1 is kept as given (0.5% is a valid threshold) but noted, since 0.8
    is more often a fraction meant as 80%."""
    value = _PERCENT_RANGE(text)
    if 0 < value < 1:
        print(
            f"note: {text} is read as {text}% (a percent, not a fraction); for {value * 100:g}% give {value * 100:g}",
            file=sys.stderr,
        )
    return value


def key_values(option: str):
    """An argparse type: `name=number,name=number` pairs."""

    def parse(spec: str) -> dict[str, float]:
        try:
            pairs = (part.split("=", 1) for part in spec.split(",") if part)
            return {name.strip(): float(value) for name, value in pairs}
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{option} takes name=number pairs separated by commas, got {spec!r}"
            ) from None

    return parse


def input_folder(option: str, value: str | Path, fix: str = "") -> Path:
    """The existing folder given as OPTION (empty for a positional argument), else an error naming it."""
    if not Path(value).is_dir():
        where = f"{option} {value}" if option else str(value)
        raise CommandError(f"{where}: not a folder" + (f". Fix: {fix}" if fix else ""))
    return Path(value)


def output_folder(option: str, value: str | Path) -> Path:
    """A folder to write into, created where it is written; refused before any work if a file is in its place."""
    if Path(value).exists() and not Path(value).is_dir():
        where = f"{option} {value}" if option else str(value)
        raise CommandError(f"{where}: a file, not a folder. Fix: give a folder (created if missing)")
    return Path(value)


def stack_option(parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME, help=f"stack name (default {DEFAULT_STACK_NAME})")


def print_not_saved(refusals, to: Console = console) -> None:
    """One line per key a command could not write locally (customlabels.outputs.NotSaved), each with its reason."""
    from rich.markup import escape

    for refusal in refusals:
        to.print(f"[red]{escape(refusal.line())}[/]", soft_wrap=True, highlight=False)


def labels_text(document: dict | None) -> str:
    """`bee (97.5), flower (81.0)`, or `nothing`."""
    labels = (document or {}).get("CustomLabels", [])
    return ", ".join(f"{label['Name']} ({label['Confidence']:.1f})" for label in labels) or "nothing"
