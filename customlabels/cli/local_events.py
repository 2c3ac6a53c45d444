"""What `local run` and `local serve` say about the result events (issue 31): how many were delivered, and how to
watch them or add a rule of one's own on the twin's bus."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from customlabels.cli.common import console
from customlabels.escaping import shown
from customlabels.local.result_events import created_bus_note
from customlabels.result_events_settings import OFF


def add_result_events_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--result-events",
        metavar="BUS|off",
        help="the bus each result's event goes to: default, a bus name, or off (default: cdk.json's "
        "result_events). A named bus must exist on AWS (aws events create-event-bus --name N; the stack does "
        "not create it): the twin creates it and says so",
    )


def result_event_lines(watch) -> list[tuple[str, str]]:
    """`local serve`'s lines naming the result events' bus and watch queue (none when they are off)."""
    return [] if watch is None else [("Result events bus", watch.bus), ("Result events queue", watch.queue_url)]


LISTED = 5
"""Result keys named per kind of mismatch; the count says how many more."""


def print_result_events(pipeline, out: Path) -> None:
    """summary.json's account of the result events: one per result by result key (green), or the results without
    an event, with more than one, and events for no result of this run (yellow, named)."""
    account = json.loads((out / "summary.json").read_text(encoding="utf-8"))["result_events"]
    if account == OFF:
        console.print("Result events: off (result_events=off); no events.jsonl", soft_wrap=True)
        return
    mismatches = {
        "result(s) without an event": account["without_event"],
        "result(s) with more than one event": account["more_than_one"],
        "event(s) for no result of this run": account["not_a_result"],
    }
    colour = "yellow" if any(mismatches.values()) else "green"
    console.print(
        f"Result events: [{colour}]{account['events']}[/] for {account['results']} result(s)"
        + ("" if colour == "yellow" else ", one each")
        + f", on the {account['bus']} bus; each as EventBridge delivered it: {out / 'events.jsonl'}",
        soft_wrap=True,
        highlight=False,
    )
    for what, keys in mismatches.items():
        if keys:
            more = f" and {len(keys) - LISTED} more" if len(keys) > LISTED else ""
            named = ", ".join(shown(key) for key in keys[:LISTED])
            console.print(f"  [yellow]{len(keys)} {what}[/]: {named}{more}", soft_wrap=True, highlight=False)
    print_created_bus(pipeline.resources.result_events)


def print_created_bus(watch) -> None:
    """That AWS needs the named bus created, when the twin created it."""
    if watch is not None and watch.created_bus:
        console.print(f"[yellow]{created_bus_note(watch.bus)}[/]", soft_wrap=True, highlight=False)


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
    print_created_bus(watch)
