"""Promote a model version to the version in service, or roll back to the previous one, without a redeploy and
without losing an image (docs/model-lifecycle.md, "Versions: promote and roll back").

The pipeline's inference function and model manager read the version in service from one SSM parameter (its
document: `customlabels_runtime/model_version.py`). A promotion writes it in named steps:

1. `check`: the candidate is of the pipeline's project and can start; 2. `record`: `promotion` {candidate, phase,
since} in the document; 3. `start`: StartProjectVersion with the inference units of the version in service,
unless it runs; 4. `wait`: until RUNNING; 5. `gate`: the gate's verdict; 6. `switch`: `version_arn` = candidate,
`previous_arn` = old, `retiring` = {old, stop_after = now + drain}; 7. `drain`: images the old version took
before the switch finish; 8. `stop`: the old version, if it runs; 9. `done`: `retiring` cleared.

Until the switch nothing the pipeline reads changes: a failure there (the candidate cannot start, the gate fails,
Ctrl-C) clears `promotion`, stops a candidate this promotion started, and the old version keeps serving. After the
switch it stands: an interrupted drain leaves `retiring`, and the model manager stops the old version at
`stop_after`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from customlabels.config import MODEL_ARN_PATTERN
from customlabels.errors import CommandError
from customlabels.lifecycle.gate import Verdict
from customlabels.operations import model
from customlabels_runtime.contract import error_code, error_message
from customlabels_runtime.model_version import (
    Promotion,
    Retiring,
    VersionDocument,
    parse_version_document,
    project_of,
)

STARTABLE = {"TRAINING_COMPLETED", "STOPPED"}
"""States StartProjectVersion accepts (RUNNING needs no start; STARTING is waited for, STOPPING too before the
start: a rollback right after a promotion finds the previous version stopping)."""
WHY_NOT_STARTABLE = {
    "TRAINING_IN_PROGRESS": "it is still training. Fix: wait for TRAINING_COMPLETED (customlabels model status "
    "--model-arn {arn} --wait), then promote it",
    "TRAINING_FAILED": "its training failed. Fix: train a new version (customlabels model train) and promote that",
    "FAILED": "its last start failed. Fix: look at its StatusMessage (customlabels model status --model-arn {arn}); "
    "a version that cannot be deployed cannot serve",
    "EXPIRED": "it has expired and can no longer be started. Fix: train a new version",
    "DEPRECATED": "it is deprecated and can no longer be started. Fix: train a new version",
}


class PromotionFailedError(CommandError):
    """The promotion ended before its switch: nothing the pipeline reads changed, the old version serves."""


class PromotionInterruptedError(Exception):
    """Ctrl-C: `message` says what stands (before the switch: nothing changed; after: the switch)."""

    def __init__(self, message: str, switched: bool) -> None:
        super().__init__(message)
        self.switched = switched


@dataclass(frozen=True)
class Pipeline:
    """What a promotion acts on: the service, the parameter of the version in service and the drain time."""

    rekognition: Any
    ssm: Any
    version_parameter: str
    drain_seconds: float


@dataclass(frozen=True)
class Timing:
    """Where time comes from (a test's ManualClock: `clock` and `clock.sleep`), and how long a start may take."""

    clock: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    start_timeout: float = 3600.0
    poll: float = 15.0

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)


@dataclass(frozen=True)
class Step:
    name: str
    """check, record, start, wait, gate, switch, drain, stop, done; undo when a failure puts things back."""
    message: str


@dataclass(frozen=True)
class Outcome:
    version_arn: str
    previous_arn: str
    verdict: Verdict | None
    started: bool
    """Whether this promotion started the candidate (False: it was already RUNNING)."""


GateCheck = Callable[[str, str], Verdict]
"""(candidate ARN, version in service ARN) -> the gate's verdict, asked once the candidate is RUNNING."""


def read_document(ssm: Any, parameter: str) -> VersionDocument:
    document = parse_version_document(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
    if document is None:
        raise CommandError(
            f"{parameter} holds no version document (docs/model-lifecycle.md); the pipeline keeps its deploy-time "
            "model. Fix: redeploy the stack (cdk deploy), which writes it"
        )
    return document


def write_document(ssm: Any, parameter: str, document: VersionDocument) -> None:
    ssm.put_parameter(Name=parameter, Value=document.to_json(), Type="String", Overwrite=True)


def promote(
    pipeline: Pipeline,
    candidate: str,
    *,
    gate_check: GateCheck | None = None,
    timing: Timing | None = None,
    on_step: Callable[[Step], None] = lambda step: None,
    take_over: bool = False,
) -> Outcome:
    """The candidate in service, in the steps of the module's docstring; PromotionFailedError (nothing changed) or
    PromotionInterruptedError (Ctrl-C) otherwise. `take_over`: a recorded promotion that no longer runs (killed) is
    replaced by this one."""
    timing = timing or Timing()
    document = read_document(pipeline.ssm, pipeline.version_parameter)
    status = _check(pipeline, document, candidate, take_over, on_step)
    if take_over and document.promotion is not None:
        _stop_orphan(pipeline, document.promotion.candidate_arn, (candidate, document.version_arn), on_step)
    document = _clear_retired(pipeline, document, candidate, timing, on_step)
    old = document.version_arn
    since = timing.now().isoformat()
    document = replace(document, promotion=Promotion(candidate, "starting", since))
    write_document(pipeline.ssm, pipeline.version_parameter, document)
    on_step(Step("record", f"recorded the promotion of {short(candidate)} in {pipeline.version_parameter}"))
    started = status not in ("RUNNING", "STARTING")  # before the call: a Ctrl-C during it stops the candidate too
    try:
        _start(pipeline, candidate, old, status, timing, on_step)
        _wait_running(pipeline, candidate, timing, on_step)
        verdict = None
        if gate_check is not None:
            document = replace(document, promotion=Promotion(candidate, "gating", since))
            write_document(pipeline.ssm, pipeline.version_parameter, document)
            verdict = _gate(gate_check, candidate, old, on_step)
    except BaseException as error:  # any end before the switch puts back what the promotion did
        undone = _undo(pipeline, candidate, started, on_step, timing.now())
        if isinstance(error, KeyboardInterrupt):
            raise PromotionInterruptedError(
                f"Interrupted before the switch: nothing changed. {undone}", False
            ) from None
        if isinstance(error, PromotionFailedError):
            raise PromotionFailedError(f"{error} Nothing changed: {old} keeps serving. {undone}") from None
        raise
    try:
        stop_after = _switch(pipeline, candidate, old, timing, on_step)
        _drain_and_stop(pipeline, old, stop_after, timing, on_step)
    except KeyboardInterrupt:
        raise _interrupted_at_the_switch(pipeline, candidate, old, started, on_step, timing) from None
    return Outcome(candidate, old, verdict, started)


def _interrupted_at_the_switch(pipeline: Pipeline, candidate: str, old: str, started: bool, on_step, timing: Timing):
    """Ctrl-C from the switch's write on: what the document says decides whether the switch stands."""
    document = read_document(pipeline.ssm, pipeline.version_parameter)
    if document.version_arn != candidate:  # the write had not happened
        undone = _undo(pipeline, candidate, started, on_step, timing.now())
        return PromotionInterruptedError(f"Interrupted before the switch: nothing changed. {undone}", False)
    retiring = document.retiring
    when = f"at {retiring.stop_after}" if retiring and retiring.version_arn == old else "once its drain is over"
    return PromotionInterruptedError(
        f"Interrupted after the switch: {candidate} serves; {old} still answers the images it took and the "
        f"model manager stops it {when} (retiring in {pipeline.version_parameter}).",
        True,
    )


def rollback(
    pipeline: Pipeline,
    *,
    timing: Timing | None = None,
    on_step: Callable[[Step], None] = lambda step: None,
    take_over: bool = False,
) -> Outcome:
    """Back to the previous version, as a promotion without a gate."""
    document = read_document(pipeline.ssm, pipeline.version_parameter)
    if document.previous_arn is None:
        raise CommandError(
            f"no previous version to roll back to: {pipeline.version_parameter} names only {document.version_arn} "
            "(it has served since the deploy). Fix: promote another version with customlabels model promote ARN"
        )
    return promote(pipeline, document.previous_arn, timing=timing, on_step=on_step, take_over=take_over)


# --- the steps ------------------------------------------------------------------------------------------------------


def _check(pipeline: Pipeline, document: VersionDocument, candidate: str, take_over: bool, on_step) -> str:
    """The candidate's status, once it is known to be of the project, not in service and startable."""
    match, current = MODEL_ARN_PATTERN.match(candidate), MODEL_ARN_PATTERN.match(document.version_arn)
    if not match:
        raise CommandError(
            f"{candidate!r} is not a project version ARN (arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/"
            "NAME/TIMESTAMP). Fix: copy it from `customlabels model train` or the console"
        )
    if current is None or project_of(candidate) != project_of(document.version_arn):
        raise CommandError(
            f"{candidate} is a version of project {match['project']!r}, and the pipeline serves "
            f"{document.version_arn}: its permissions cover its own project's versions only. Fix: promote a version "
            "of that project, or deploy a pipeline for the other (cdk deploy -c model_arn=...)"
        )
    if candidate == document.version_arn:
        raise CommandError(f"{candidate} is already the version in service: nothing to promote")
    if document.promotion is not None and not take_over:
        raise CommandError(
            f"a promotion of {document.promotion.candidate_arn} is under way since {document.promotion.since} "
            f"({document.promotion.phase}). Fix: wait for it to end (customlabels model status); if no promotion "
            "runs any more (it was killed), give --take-over"
        )
    status = model.describe(pipeline.rekognition, candidate)["Status"]
    if status not in STARTABLE | {"RUNNING", "STARTING", "STOPPING"}:
        why = WHY_NOT_STARTABLE.get(status, "it is in a state that cannot start. Fix: wait until it is STOPPED")
        raise CommandError(f"{candidate} cannot be promoted while {status}: " + why.format(arn=candidate))
    on_step(Step("check", f"{candidate} is {status}, a version of the pipeline's project"))
    return status


def short(arn: str) -> str:
    """A version as people name it in a line of progress: `project/version` (the full ARN in errors)."""
    match = MODEL_ARN_PATTERN.match(arn)
    return f"{match['project']}/{match['version']}" if match else arn


def _stop_orphan(pipeline: Pipeline, orphan: str, keep: tuple[str, ...], on_step) -> None:
    """--take-over: the candidate of the promotion that was killed is stopped, if this promotion does not need it
    (it would run, billed, with no one to stop it); still STARTING, it cannot be stopped yet: refused, say when."""
    if orphan in keep:
        return
    status = model.describe(pipeline.rekognition, orphan)["Status"]
    if status == "STARTING":
        raise CommandError(
            f"{orphan}, the candidate of the promotion taken over, is STARTING and cannot be stopped yet. Fix: give "
            "--take-over again once it is RUNNING (customlabels model status --model-arn ...), which stops it"
        )
    if status == "RUNNING":
        _stop_if_running(pipeline, orphan, on_step)
        on_step(Step("take-over", f"stopped {short(orphan)}, the candidate of the promotion taken over"))


def _clear_retired(pipeline: Pipeline, document: VersionDocument, candidate: str, timing: Timing, on_step):
    """A version still retiring from the last switch: back in service if it is the candidate, stopped when its
    drain is over, else the promotion waits for it (refused: its images in flight need it)."""
    retiring = document.retiring
    if retiring is None or retiring.version_arn == candidate:
        return document
    if model.describe(pipeline.rekognition, retiring.version_arn)["Status"] == "STARTING":
        raise CommandError(
            f"{retiring.version_arn} is retiring but still STARTING (a promotion ended while it started); the model "
            "manager stops it once it is RUNNING. Fix: promote again after that (customlabels model status)"
        )
    stop_after = datetime.fromisoformat(retiring.stop_after)
    if timing.now() < stop_after:
        raise CommandError(
            f"{retiring.version_arn} still answers the images it took before the last switch, until "
            f"{retiring.stop_after}. Fix: promote again after that time"
        )
    _stop_if_running(pipeline, retiring.version_arn, on_step)
    document = replace(document, retiring=None)
    write_document(pipeline.ssm, pipeline.version_parameter, document)
    return document


def inference_units(rekognition: Any, version_arn: str) -> tuple[int, int, str]:
    """(min, max, where they come from): the version in service's, as its last StartProjectVersion asked
    (DescribeProjectVersions), else 1."""
    described = model.describe(rekognition, version_arn)
    minimum = described.get("MinInferenceUnits")
    if not minimum:
        return 1, 1, f"1: {short(version_arn)} reports none (never started)"
    maximum = described.get("MaxInferenceUnits") or minimum
    return minimum, maximum, f"those of {short(version_arn)}, from DescribeProjectVersions"


def _start(pipeline: Pipeline, candidate: str, old: str, status: str, timing: Timing, on_step) -> None:
    if status in ("RUNNING", "STARTING"):
        on_step(Step("start", f"{short(candidate)} is already {status}: not started again (nor stopped on failure)"))
        return
    if status == "STOPPING":
        _wait(pipeline, candidate, "STOPPED", timing, on_step)
    minimum, maximum, source = inference_units(pipeline.rekognition, old)
    try:
        model.start(pipeline.rekognition, candidate, minimum, maximum)
    except pipeline.rekognition.exceptions.ClientError as error:
        raise PromotionFailedError(
            f"StartProjectVersion refused {candidate}: {error_code(error)}: {error_message(error)}."
        ) from None
    on_step(Step("start", f"started {short(candidate)} with {minimum} inference unit(s), max {maximum} ({source})"))


def _wait(pipeline: Pipeline, version_arn: str, wanted: str, timing: Timing, on_step) -> str:
    final = model.wait_for(
        pipeline.rekognition,
        version_arn,
        {wanted},
        timing.start_timeout,
        timing.poll,
        on_status=lambda status: on_step(Step("wait", f"{short(version_arn)} is {status}, waiting for {wanted}")),
        clock=timing.clock,
        sleep=timing.sleep,
    )
    if final != wanted and wanted == "STOPPED":
        raise PromotionFailedError(
            f"{version_arn} was still {final} after {timing.start_timeout:g} s (give --timeout)."
        )
    return final


def _wait_running(pipeline: Pipeline, candidate: str, timing: Timing, on_step) -> None:
    final = _wait(pipeline, candidate, "RUNNING", timing, on_step)
    if final == "FAILED":
        message = model.describe(pipeline.rekognition, candidate).get("StatusMessage", "").rstrip(".")
        raise PromotionFailedError(f"{candidate} failed to start: {message}.")
    if final != "RUNNING":
        raise PromotionFailedError(f"{candidate} was still {final} after {timing.start_timeout:g} s (give --timeout).")


def _gate(gate_check: GateCheck, candidate: str, old: str, on_step) -> Verdict:
    verdict = gate_check(candidate, old)
    passed = "passed" if verdict.passed else "failed"
    on_step(Step("gate", f"the gate {passed} on {verdict.source}"))
    if not verdict.passed:
        failed = "; ".join(str(term.term) for term in verdict.failures())
        raise PromotionFailedError(f"The gate failed ({failed}).")
    return verdict


def _undo(pipeline: Pipeline, candidate: str, started: bool, on_step, now: datetime) -> str:
    """Before the switch: `promotion` cleared, a candidate this promotion started stopped; what was done, said."""
    cleared = replace(read_document(pipeline.ssm, pipeline.version_parameter), promotion=None)
    write_document(pipeline.ssm, pipeline.version_parameter, cleared)
    if not started:
        said = "The candidate was not started by this promotion and is left as it is."
    else:
        status = model.describe(pipeline.rekognition, candidate)["Status"]
        if status == "RUNNING":
            model.stop(pipeline.rekognition, candidate)
            said = f"{candidate}, started for this promotion, is being stopped (no more billing for it)."
        elif status == "STARTING":  # it cannot be stopped yet: the model manager stops it once it runs
            retiring = Retiring(candidate, now.isoformat())
            write_document(pipeline.ssm, pipeline.version_parameter, replace(cleared, retiring=retiring))
            said = (
                f"{candidate}, started for this promotion, is still STARTING: it is recorded as retiring, and the "
                "model manager stops it as soon as it is RUNNING (within a run of its schedule)."
            )
        else:
            said = f"{candidate} is {status}: not running, not billed."
    on_step(Step("undo", said))
    return said


def _switch(pipeline: Pipeline, candidate: str, old: str, timing: Timing, on_step) -> datetime:
    now = timing.now()
    stop_after = now + timedelta(seconds=pipeline.drain_seconds)
    document = read_document(pipeline.ssm, pipeline.version_parameter)
    switched = replace(
        document,
        version_arn=candidate,
        previous_arn=old,
        changed_at=now.isoformat(),
        retiring=Retiring(old, stop_after.isoformat()),
        promotion=None,
    )
    write_document(pipeline.ssm, pipeline.version_parameter, switched)
    on_step(
        Step(
            "switch",
            f"{short(candidate)} is in service; {short(old)} finishes the images it took, until "
            f"{stop_after:%H:%M:%S} UTC",
        )
    )
    return stop_after


def _drain_and_stop(pipeline: Pipeline, old: str, stop_after: datetime, timing: Timing, on_step) -> None:
    while (left := (stop_after - timing.now()).total_seconds()) > 0:
        on_step(Step("drain", f"draining: {short(old)} stops in {left:.0f} s"))
        timing.sleep(min(left, timing.poll))
    _stop_if_running(pipeline, old, on_step)
    document = read_document(pipeline.ssm, pipeline.version_parameter)
    if document.retiring is not None and document.retiring.version_arn == old:
        write_document(pipeline.ssm, pipeline.version_parameter, replace(document, retiring=None))
    on_step(Step("done", f"{short(old)} retired"))


def _stop_if_running(pipeline: Pipeline, version_arn: str, on_step) -> None:
    """Stopped if it runs; the model manager may stop it at the same moment (at `stop_after`): a stop refused
    because it is already stopping is that."""
    status = model.describe(pipeline.rekognition, version_arn)["Status"]
    if status == "RUNNING":
        try:
            model.stop(pipeline.rekognition, version_arn)
        except pipeline.rekognition.exceptions.ClientError as error:
            if error_code(error) != "ResourceInUseException":
                raise
            status = model.describe(pipeline.rekognition, version_arn)["Status"]
            on_step(Step("stop", f"{short(version_arn)} is {status}: stopped by the model manager"))
            return
        on_step(Step("stop", f"stopping {short(version_arn)} (its billing ends)"))
    else:
        on_step(Step("stop", f"{short(version_arn)} is {status}: nothing to stop"))
