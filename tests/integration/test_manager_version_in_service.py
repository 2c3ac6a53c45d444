"""The model manager and the version in service, on the local stack's services (moto SQS and SSM, the Rekognition
emulator holding two versions of the project): it starts and stops the version the document names, stops a
`retiring` version only once `stop_after` has passed, and counts every running version's time."""

import json
from dataclasses import replace
from datetime import timedelta

import pytest

from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels_runtime.model_manager.logic import manage
from customlabels_runtime.model_manager.state import running_seconds_today
from customlabels_runtime.model_version import initial_document, parse_version_document
from support.aws import MODEL_ARN
from support.events import s3_event
from support.manager import NOW, on_local_services
from support.versions import OTHER_PROJECT_ARN, SECOND_ARN, promoted

pytestmark = pytest.mark.integration

PARAMETER = "/model-version"


@pytest.fixture
def versions():
    """Yields (service, deps, write): `write(document)` puts the version document the manager reads."""
    service = CustomLabelsService()
    service.add_model(MODEL_ARN)
    service.add_model(SECOND_ARN)
    with on_local_services(service, version_parameter=PARAMETER, drain_seconds=150) as (deps, _):

        def write(value):
            deps.ssm.put_parameter(Name=PARAMETER, Value=value, Type="String", Overwrite=True)

        write(initial_document(MODEL_ARN))
        yield service, deps, write


def status(service, arn):
    """As DescribeProjectVersions says it now (the emulator moves a version's state when it is read)."""
    model = service.models[arn]
    [found] = service.describe_project_versions(
        {"ProjectArn": model.project_arn, "VersionNames": [model.version_name]}
    )["ProjectVersionDescriptions"]
    return found["Status"]


def document(deps):
    return parse_version_document(deps.ssm.get_parameter(Name=PARAMETER)["Parameter"]["Value"])


def state(deps):
    return json.loads(deps.ssm.get_parameter(Name="/state")["Parameter"]["Value"])


def image_waits(deps):
    deps.sqs.send_message(QueueUrl=deps.settings.queue_url, MessageBody=s3_event("test_images/bee.jpg"))


def test_the_manager_starts_and_stops_the_version_in_service(versions):
    service, deps, write = versions
    write(promoted(stop_after=None))
    image_waits(deps)
    assert manage(deps, now=NOW, work_announced=True)["model_arn"] == SECOND_ARN
    assert (status(service, SECOND_ARN), status(service, MODEL_ARN)) == ("RUNNING", "TRAINING_COMPLETED")
    assert state(deps)["model_version"] == SECOND_ARN
    deps.sqs.purge_queue(QueueUrl=deps.settings.queue_url)
    assert manage(deps, now=NOW + timedelta(seconds=30))["stop"] is False  # idle_seconds (60) not yet over
    assert manage(deps, now=NOW + timedelta(minutes=2))["stop"] is True
    assert status(service, SECOND_ARN) in ("STOPPING", "STOPPED")


def test_an_unreadable_document_keeps_the_version_it_managed_never_the_deploy_time_one(versions):
    service, deps, write = versions
    write(promoted())
    manage(deps, now=NOW)
    for value in ("not json", initial_document(OTHER_PROJECT_ARN)):
        write(value)
        image_waits(deps)
        assert manage(deps, now=NOW + timedelta(minutes=1), work_announced=True)["model_arn"] == SECOND_ARN
    assert status(service, MODEL_ARN) == "TRAINING_COMPLETED"  # the replaced version was never started again
    deps.ssm.delete_parameter(Name=PARAMETER)
    assert manage(deps, now=NOW + timedelta(minutes=2))["model_arn"] == SECOND_ARN


def test_a_retiring_version_is_stopped_only_after_stop_after_then_cleared(versions):
    """`model promote` interrupted between its switch and its stop: the manager stops the old version for it."""
    service, deps, write = versions
    for arn in (MODEL_ARN, SECOND_ARN):
        service.start_project_version({"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    stop_after = NOW + timedelta(minutes=5)
    write(promoted(stop_after=stop_after.isoformat()))
    assert manage(deps, now=NOW + timedelta(minutes=4, seconds=59))["retired"] is None
    assert status(service, MODEL_ARN) == "RUNNING"  # images in flight may still call it
    assert document(deps).retiring is not None
    assert manage(deps, now=stop_after)["retired"] == "stop"
    assert status(service, MODEL_ARN) in ("STOPPING", "STOPPED")
    assert status(service, SECOND_ARN) == "RUNNING"
    left = document(deps)
    assert left.retiring is None and left.version_arn == SECOND_ARN and left.previous_arn == MODEL_ARN
    assert manage(deps, now=stop_after + timedelta(minutes=1))["retired"] is None


def test_a_retiring_version_already_stopped_is_only_cleared_and_the_one_in_service_is_never_retired(versions):
    service, deps, write = versions
    service.start_project_version({"ProjectVersionArn": SECOND_ARN, "MinInferenceUnits": 1})
    write(promoted(stop_after=NOW.isoformat()))  # MODEL_ARN, retiring, was never started: nothing to stop
    assert manage(deps, now=NOW)["retired"] == "clear"
    assert document(deps).retiring is None
    write(promoted(previous_arn=SECOND_ARN, stop_after=NOW.isoformat()))  # retiring names the version in service
    assert manage(deps, now=NOW)["retired"] == "clear"
    assert status(service, SECOND_ARN) == "RUNNING"


def test_the_spend_guard_counts_both_versions_while_they_overlap(versions):
    service, deps, write = versions
    deps = replace(deps, settings=replace(deps.settings, lifecycle="always-on"))  # the one in service keeps running
    for arn in (MODEL_ARN, SECOND_ARN):
        service.start_project_version({"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    write(promoted(stop_after=(NOW + timedelta(hours=1)).isoformat()))
    manage(deps, now=NOW)
    manage(deps, now=NOW + timedelta(minutes=30))
    assert running_seconds_today(state(deps), NOW + timedelta(minutes=30)) == 2 * 30 * 60
    manage(deps, now=NOW + timedelta(hours=1))  # stops the retiring version: its hour is closed
    assert status(service, MODEL_ARN) in ("STOPPING", "STOPPED")
    manage(deps, now=NOW + timedelta(hours=1, minutes=1))  # sees it stopped: its period closes, one run late
    assert running_seconds_today(state(deps), NOW + timedelta(hours=2)) == (3600 + 60) + 2 * 3600


def test_a_version_replaced_without_retiring_it_is_retired_after_the_drain_time(versions):
    """A `cdk deploy` with another model_arn rewrites the document to the new version alone: the one it replaced
    would run (and bill) forever; the manager makes it retiring and stops it after the drain time."""
    service, deps, write = versions
    for arn in (MODEL_ARN, SECOND_ARN):
        service.start_project_version({"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    manage(deps, now=NOW)  # manages MODEL_ARN, the document's
    write(initial_document(SECOND_ARN))
    assert manage(deps, now=NOW + timedelta(minutes=1))["retired"] == "retiring"
    retiring = document(deps).retiring
    assert retiring.version_arn == MODEL_ARN
    assert retiring.stop_after == (NOW + timedelta(minutes=1, seconds=150)).isoformat()
    assert manage(deps, now=NOW + timedelta(minutes=2))["retired"] is None
    assert status(service, MODEL_ARN) == "RUNNING"
    assert manage(deps, now=NOW + timedelta(minutes=3, seconds=30))["retired"] == "stop"
    assert status(service, MODEL_ARN) in ("STOPPING", "STOPPED")
    assert document(deps) == parse_version_document(initial_document(SECOND_ARN))
