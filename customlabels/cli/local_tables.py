"""`customlabels local run`'s account of a run on the terminal: the results table, how the model manager drove the
model and what the emulated Rekognition answered, and the images that can never have a result or did not get one."""

from __future__ import annotations

from rich.table import Table

from customlabels.cli.common import console, labels_text
from customlabels.config import image_name_problem
from customlabels.escaping import shown
from customlabels_runtime.contract import KEY_TOO_LONG


def print_results(outcomes: dict[str, str], results: dict[str, dict]) -> None:
    table = Table(title="Results", show_lines=False)
    table.add_column("image", overflow="fold")
    table.add_column("outcome", no_wrap=True)
    table.add_column("labels (confidence)", overflow="fold")
    for key, outcome in outcomes.items():
        style = (
            "green"
            if outcome in ("labels", "nothing")
            else "yellow"
            if outcome.startswith(("error", "not-"))
            else "red"
        )
        table.add_row(shown(key), f"[{style}]{shown(outcome)}[/]", labels_text(results.get(key)))
    console.print(table)


def print_model_timeline(pipeline) -> None:
    """How the model manager drove the model during the run (on demand: started when the uploads came), what
    Rekognition answered and how auto-scaling moved the units."""
    model = pipeline.service.models[pipeline.config.model_arn]
    history = model.history
    started = history[0][0]
    steps = " -> ".join(f"{status} (+{moment - started:.1f} s)" for moment, status in history)
    console.print(f"Model ({pipeline.config.model_lifecycle}): {steps}", soft_wrap=True)
    if pipeline.config.model_lifecycle == "on-demand":
        was_started = any(status == "STARTING" for _, status in history)
        console.print(
            (
                "  The model manager started it when images arrived"
                if was_started
                else "  The model manager did not start it during the run"
            )
            + f"; deployed, it stops it after {pipeline.config.idle_minutes} idle minutes (idle_minutes).",
            soft_wrap=True,
        )
    for line in service_story(pipeline.service.calls, pipeline.service.errors, model.capacity.history, started):
        console.print(line, soft_wrap=True)


def service_story(
    calls: dict[str, int], errors: dict[str, int], units_history: list[tuple[float, int]], started: float
) -> list[str]:
    """The emulated Rekognition's side of a run: its DetectCustomLabels calls and the errors it answered (which
    the pipeline retries: the function within the invocation, a throttle at its throughput control's next slot and
    a server error twice, then SQS; the Rekognition client's own botocore retries are off), and the inference units
    when auto-scaling changed them (`units_history`: (time, units) from Capacity.history)."""
    answered = ", ".join(f"{count} {code}" for code, count in sorted(errors.items()))
    lines = [
        f"Rekognition: {count(calls.get('DetectCustomLabels', 0), 'DetectCustomLabels call')}"
        + (f"; errors answered (retried, docs/reliability.md): {answered}" if answered else ", no error")
    ]
    if len({units for _, units in units_history if units}) > 1:
        lines.append(
            "Inference units (auto-scaling): "
            + " -> ".join(f"{units} (+{moment - started:.1f} s)" for moment, units in units_history)
        )
    return lines


def print_never_processed(pipeline, outcomes: dict[str, str]) -> None:
    """Why an image can never have a result: its name's suffix in mixed case, or a key S3 cannot store."""
    from customlabels.operations.transfer import key_length_problem

    for key, outcome in outcomes.items():  # a JPEG named bee.Jpg: the notifications never send it (upload says so)
        if outcome == "not-picked-up":
            problem = image_name_problem(key.rsplit("/", 1)[-1])
            console.print(f"[yellow]not-picked-up[/]: {shown(key)}: {shown(problem)}", soft_wrap=True)
    for key, outcome in outcomes.items():
        if outcome == f"error:{KEY_TOO_LONG}":
            problem = key_length_problem(key, pipeline.result_key_for(key))
            console.print(f"[yellow]{outcome}[/]: {shown(key)}: {problem}", soft_wrap=True)


def print_failed(outcomes: dict[str, str]) -> dict[str, str]:
    """The images that ended in the DLQ or were still pending at --timeout, each named; returns them."""
    failed = {key: outcome for key, outcome in outcomes.items() if outcome in ("dead-letter", "timeout")}
    for key, outcome in failed.items():
        console.print(
            f"[red]{outcome}[/]: {shown(key)}"
            + (" (still pending after --timeout)" if outcome == "timeout" else " (every retry failed; see the log)"),
            soft_wrap=True,
        )
    return failed


def count(number_of: int, noun: str) -> str:
    return f"{number_of} {noun}" + ("" if number_of == 1 else "s")
