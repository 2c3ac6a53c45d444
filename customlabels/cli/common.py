"""What the command groups share: the console, argparse types that refuse nonsense at parse time, and the options
that locate a deployed pipeline."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from rich.console import Console

from customlabels.errors import CommandError
from customlabels.escaping import shown
from customlabels_runtime.contract import DEFAULT_STACK_NAME

console = Console(emoji=False)
error_console = Console(stderr=True, emoji=False)
"""The consoles of every command (stdout, and stderr for errors and progress). Emoji codes are off, so that a key
such as `:bee:.jpg` prints as written; values from outside are passed through `escaping.shown`."""


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


def PERCENT(text: str) -> float:  # noqa: N802 - an argparse type named as its siblings POSITIVE, SECONDS, FRACTION
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


def input_file(option: str, value: str | Path, fix: str = "") -> Path:
    """The existing file given as OPTION (or a positional argument's name), else an error naming it."""
    if not Path(value).is_file():
        where = f"{option} {value}" if option else str(value)
        raise CommandError(f"{where}: no such file" + (f". Fix: {fix}" if fix else ""))
    return Path(value)


def output_folder(option: str, value: str | Path) -> Path:
    """A folder to write into, created where it is written; refused before any work if a file is in its place."""
    if Path(value).exists() and not Path(value).is_dir():
        where = f"{option} {value}" if option else str(value)
        raise CommandError(f"{where}: a file, not a folder. Fix: give a folder (created if missing)")
    return Path(value)


def aws_client(service: str, **options: Any) -> Any:
    """boto3's client of `service`: the one place every command makes one, so that an endpoint or region botocore
    cannot use (a mistyped AWS_ENDPOINT_URL_S3, say) is one line naming the variable and the fix, not a traceback."""
    import boto3
    from botocore.exceptions import InvalidRegionError

    try:
        return boto3.client(service, **options)
    except InvalidRegionError as error:
        raise CommandError(
            f"{error.kwargs.get('region_name')!r} is not an AWS region name. Fix: set AWS_DEFAULT_REGION (or "
            "--region of the profile) to one such as eu-west-1"
        ) from None
    except ValueError as error:
        names = (f"AWS_ENDPOINT_URL_{service.upper().replace('-', '_')}", "AWS_ENDPOINT_URL")
        variable = next((name for name in names if os.environ.get(name)), None)
        where = f"{variable}={os.environ[variable]!r}" if variable else f"the AWS config's endpoint_url of {service}"
        raise CommandError(
            f"{where} is not a URL botocore can use ({error}). Fix: give an http(s) URL, such as the endpoint "
            "`customlabels local serve` prints (http://127.0.0.1:PORT), or unset it to reach AWS"
        ) from None


def note_skipped(note: str) -> None:
    """A result file left out (not JSON, malformed...), said in one line on stderr; every other result is read."""
    error_console.print(f"[yellow]skipped[/] {shown(note)}", soft_wrap=True, highlight=False)


def stack_option(parser: argparse.ArgumentParser | argparse._MutuallyExclusiveGroup) -> None:
    parser.add_argument("--stack", default=DEFAULT_STACK_NAME, help=f"stack name (default {DEFAULT_STACK_NAME})")


def print_not_saved(refusals, to: Console = console) -> None:
    """One line per key a command could not write locally (customlabels.outputs.NotSaved), each with its reason."""
    for refusal in refusals:
        to.print(f"[red]{shown(refusal.line())}[/]", soft_wrap=True, highlight=False)


def labels_text(document: dict | None) -> str:
    """`bee (97.5), flower (81.0)`, or `nothing`, for rich: each name as written, a confidence that is not a number
    as it is (the result is malformed; `evaluate` and `visualize` name the problem)."""

    def confidence(value: object) -> str:
        return f"{value:.1f}" if isinstance(value, int | float) and not isinstance(value, bool) else repr(value)

    labels = (document or {}).get("CustomLabels") or []
    return (
        ", ".join(
            shown(f"{label.get('Name')} ({confidence(label.get('Confidence'))})")
            if isinstance(label, dict)
            else shown(repr(label))
            for label in labels
        )
        or "nothing"
    )
