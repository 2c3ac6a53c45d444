"""What one run of the manager does about its decision: write the state, gate the event source, stop or start the
version in service, stop a retiring version that is due, and report it in metrics and logs."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import ClientError

from customlabels_runtime import contract
from customlabels_runtime.contract import error_code
from customlabels_runtime.model_manager.budget import late_reason
from customlabels_runtime.model_manager.dependencies import Dependencies, Settings
from customlabels_runtime.model_manager.learning import learned_state
from customlabels_runtime.model_manager.records import Decision, Observation
from customlabels_runtime.model_manager.state import next_state
from customlabels_runtime.model_manager.versions import STOP_RETIRING, retirement, with_retiring, without_retiring
from customlabels_runtime.model_version import VersionDocument, parse_version_document


def update_mapping(deps: Dependencies, enabled: bool) -> bool:
    """Enable or disable the event source; False if Lambda refused because it is changing (the next run retries)."""
    try:
        deps.lambda_.update_event_source_mapping(UUID=deps.settings.mapping_uuid, Enabled=enabled)
    except ClientError as error:
        if error_code(error) not in ("ResourceInUseException", "ResourceConflictException"):
            raise
        deps.logger.warning("The event source is changing; the next run retries", extra={"enabled": enabled})
        return False
    return True


def act(decision: Decision, seen: Observation, state: dict[str, Any], deps: Dependencies) -> dict[str, Any]:
    """Write the state first (so an image seen is remembered even if a start fails), disable the event source
    before a stop and enable it after a start: never stop under work."""
    late = late_reason(seen, deps.settings, decision.image_seen_at, decision.budget_paused, decision.start_model)
    _write_state(_new_state(decision, seen, state, deps.settings, late), state, deps)
    stop = decision.stop_model
    if decision.enable_mapping is False and not update_mapping(deps, False):
        stop = False  # the event source may still be delivering: not under it
    if stop:
        _stop_model(decision, seen, deps)
    if decision.start_model:
        _start_model(decision, seen, deps)
    if decision.enable_mapping is True:
        update_mapping(deps, True)
    retired = _retire(seen, deps)
    _publish_metrics(decision, seen, deps.metrics, late)
    _log_run(decision, seen, deps.logger, late)
    return {
        "reason": decision.reason,
        "start": decision.start_model,
        "stop": stop,
        "enable_mapping": decision.enable_mapping,
        "model_status": seen.model_status,
        "paused": decision.budget_paused,
        "model_arn": seen.model_arn or deps.settings.model_arn,
        "retired": retired,
    }


def _new_state(
    decision: Decision, seen: Observation, state: dict[str, Any], settings: Settings, late: str | None
) -> dict[str, Any]:
    """The state (state.py) with what the manager learned of its model (learning.py) and, with a latency budget,
    the budget and why an image waits longer, for `customlabels model status`."""
    new = {**next_state(seen, decision, state), **learned_state(seen, decision, state)}
    if settings.max_wait_seconds > 0:
        new["wait_budget_seconds"] = settings.max_wait_seconds
    if late:
        new["late"] = late
    return new


def _write_state(new_state: dict[str, Any], state: dict[str, Any], deps: Dependencies) -> None:
    """Only when it changed: an idle run writes nothing."""
    if new_state != state:
        deps.ssm.put_parameter(
            Name=deps.settings.state_parameter, Value=json.dumps(new_state), Overwrite=True, Type="String"
        )


def _write_document(deps: Dependencies, read: VersionDocument, new: VersionDocument) -> None:
    """The document is read again just before it is written, and left alone if it changed meanwhile (a promotion or
    a rollback is under way: the next run sees it)."""
    name = deps.settings.version_parameter
    if parse_version_document(deps.ssm.get_parameter(Name=name)["Parameter"]["Value"]) == read:
        deps.ssm.put_parameter(Name=name, Value=new.to_json(), Overwrite=True, Type="String")


def _retire(seen: Observation, deps: Dependencies) -> str | None:
    """The `retiring` version once its `stop_after` has passed (versions.retirement): stopped if still RUNNING, then
    its record cleared, so an interrupted `model promote` never leaves it billed. A version replaced unannounced
    (a redeploy with another model_arn) that still runs is made `retiring` first, stopped after the drain time."""
    versions = seen.versions
    if versions and versions.replaced and versions.statuses.get(versions.replaced) in ("RUNNING", "STARTING"):
        stop_after = seen.now + timedelta(seconds=deps.settings.drain_seconds)
        _write_document(deps, versions.document, with_retiring(versions.document, versions.replaced, stop_after))
        deps.logger.warning(
            "The version in service changed without retiring the one before (a redeploy?): it is stopped after the "
            "drain time",
            extra={"model_arn": versions.replaced, "stop_after": stop_after.isoformat()},
        )
        return "retiring"
    what = retirement(versions, seen.now) if versions else None
    if what is None:
        return None
    retiring = versions.document.retiring.version_arn
    if what == STOP_RETIRING:
        deps.rekognition.stop_project_version(ProjectVersionArn=retiring)
        deps.metrics.add_metric(name=contract.MODEL_STOPS, unit=MetricUnit.Count, value=1)
        deps.logger.info(
            "Stopped the retired version", extra={"model_arn": retiring, "in_service": versions.in_service}
        )
    _write_document(deps, versions.document, without_retiring(versions.document))
    return what


def _stop_model(decision: Decision, seen: Observation, deps: Dependencies) -> None:
    model_arn = seen.model_arn or deps.settings.model_arn
    deps.rekognition.stop_project_version(ProjectVersionArn=model_arn)
    deps.metrics.add_metric(name=contract.MODEL_STOPS, unit=MetricUnit.Count, value=1)
    deps.logger.info("Stopped the model", extra={"reason": decision.reason, "model_arn": model_arn})


def _start_model(decision: Decision, seen: Observation, deps: Dependencies) -> None:
    """The version in service, with the minimum of inference units, and a maximum (Rekognition's auto-scaling) only
    above it."""
    settings = deps.settings
    model_arn = seen.model_arn or settings.model_arn
    units = {"MinInferenceUnits": settings.min_inference_units}
    if settings.max_inference_units > settings.min_inference_units:
        units["MaxInferenceUnits"] = settings.max_inference_units
    deps.rekognition.start_project_version(ProjectVersionArn=model_arn, **units)
    deps.metrics.add_metric(name=contract.MODEL_STARTS, unit=MetricUnit.Count, value=1)
    deps.logger.info("Started the model", extra={"reason": decision.reason, "model_arn": model_arn, **units})


def _publish_metrics(decision: Decision, seen: Observation, metrics: Any, late: str | None) -> None:
    """Every run's figures, which the dashboard shows and the RunningWhileIdle, SpendGuardPaused and
    WaitBudgetMissed alarms read."""
    if seen.inspection is not None:
        metrics.add_metric(
            name=contract.QUEUE_MESSAGES_DISCARDED, unit=MetricUnit.Count, value=seen.inspection.discarded
        )
    running_idle = decision.idle_seconds / 60 if seen.model_status == "RUNNING" and not seen.queued else 0.0
    metrics.add_metric(name=contract.MODEL_RUNNING_IDLE_MINUTES, unit=MetricUnit.Count, value=running_idle)
    metrics.add_metric(
        name=contract.MODEL_HOURS_TODAY, unit=MetricUnit.Count, value=round(seen.running_seconds_today / 3600, 3)
    )
    metrics.add_metric(name=contract.SPEND_GUARD_PAUSED, unit=MetricUnit.Count, value=int(decision.budget_paused))
    waited = (seen.now - decision.image_seen_at).total_seconds() / 60 if decision.image_seen_at else 0.0
    metrics.add_metric(name=contract.OLDEST_IMAGE_WAIT_MINUTES, unit=MetricUnit.Count, value=round(waited, 2))
    metrics.add_metric(name=contract.WAIT_BUDGET_MISSED, unit=MetricUnit.Count, value=int(late is not None))


def _log_run(decision: Decision, seen: Observation, logger: Any, late: str | None) -> None:
    if decision.budget_paused:
        logger.warning("Spend guard: the daily budget of model hours is used up", extra={"reason": decision.reason})
    if late:
        logger.warning(
            "An image waits longer than max_wait_minutes",
            extra={"key": decision.waiting_key, "since": str(decision.image_seen_at), "why": late},
        )
    logger.info(
        "Model manager ran",
        extra={
            "reason": decision.reason,
            "status": seen.model_status,
            "visible": seen.visible,
            "in_flight": seen.in_flight,
            "mapping_enabled": seen.mapping_enabled,
        },
    )
