"""What `local run` and `local serve` say about the result events (issue 31): how many were delivered, and how to
watch them or add a rule of one's own on the twin's bus."""

from __future__ import annotations

import argparse
from pathlib import Path

from customlabels.cli.common import console


def add_result_events_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--result-events",
        metavar="BUS|off",
        help="the bus each result's event goes to: default, a bus name (the twin creates it), or off "
        "(default: cdk.json's result_events)",
    )


def result_event_lines(watch) -> list[tuple[str, str]]:
    """`local serve`'s lines naming the result events' bus and watch queue (none when they are off)."""
    return [] if watch is None else [("Result events bus", watch.bus), ("Result events queue", watch.queue_url)]


def print_result_events(pipeline, out: Path, results: int) -> None:
    """How many result events the watch rule delivered (events.jsonl), beside how many results were written."""
    watch = pipeline.resources.result_events
    if watch is None:
        console.print("Result events: off (result_events=off)", soft_wrap=True)
        return
    delivered = (out / "events.jsonl").read_text(encoding="utf-8").count("\n")
    colour = "green" if delivered == results else "yellow"
    console.print(
        f"Result events: [{colour}]{delivered}[/] for {results} result(s), on the {watch.bus} bus; "
        f"each as EventBridge delivered it: {out / 'events.jsonl'}",
        soft_wrap=True,
        highlight=False,
    )


def print_how_to_watch_events(pipeline) -> None:
    """The command that reads the watch queue, and where a rule of one's own goes."""
    watch = pipeline.resources.result_events
    if watch is None:
        return
    endpoint = pipeline.resources.endpoint
    console.print(
        f"Result events go to the {watch.bus} bus; its rule {watch.rule} (the stack's ResultEventPattern) fills a "
        'queue. Watch them (or add rules of your own: README, "Results as events"):\n'
        f"aws sqs receive-message --endpoint-url {endpoint} --queue-url {watch.queue_url} "
        "--max-number-of-messages 10 --wait-time-seconds 10",
        soft_wrap=True,
        highlight=False,
    )
