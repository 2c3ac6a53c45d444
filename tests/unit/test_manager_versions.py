"""The manager's pure rules about versions (customlabels_runtime/model_manager/versions.py): which version is in
service, which ones it reads, and when a retiring one is stopped."""

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customlabels_runtime.model_manager.versions import (
    CLEAR_RETIRING,
    STOP_RETIRING,
    Versions,
    in_service,
    known_versions,
    read_document,
    replaced_unannounced,
    retirement,
)
from customlabels_runtime.model_version import Promotion, Retiring, VersionDocument, parse_version_document
from support.aws import MODEL_ARN, MODEL_STATUSES
from support.versions import OTHER_PROJECT_ARN, SECOND_ARN, promoted

pytestmark = pytest.mark.unit

NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)


def retiring_at(stop_after: str, statuses: dict, in_service_arn: str = SECOND_ARN) -> Versions:
    document = VersionDocument(in_service_arn, MODEL_ARN, NOW.isoformat(), Retiring(MODEL_ARN, stop_after))
    return Versions(in_service_arn, document, statuses)


def test_the_document_names_the_version_in_service_else_the_last_managed_else_the_deploy_time_one():
    document, problem = read_document(promoted(), MODEL_ARN)
    assert problem is None and in_service(document, None, MODEL_ARN) == SECOND_ARN
    assert in_service(None, SECOND_ARN, MODEL_ARN) == SECOND_ARN
    assert in_service(None, OTHER_PROJECT_ARN, MODEL_ARN) == MODEL_ARN  # never another project's
    assert in_service(None, None, MODEL_ARN) == MODEL_ARN
    assert read_document(promoted(OTHER_PROJECT_ARN), MODEL_ARN)[0] is None
    assert read_document("garbage", MODEL_ARN) == (None, "the version-in-service parameter holds no version document")


def test_it_reads_the_version_in_service_the_retiring_one_and_a_candidate_of_the_project_only():
    document = VersionDocument(
        SECOND_ARN,
        retiring=Retiring(MODEL_ARN, NOW.isoformat()),
        promotion=Promotion(OTHER_PROJECT_ARN, "starting", NOW.isoformat()),
    )
    assert known_versions(document, SECOND_ARN) == [SECOND_ARN, MODEL_ARN]
    assert known_versions(None, MODEL_ARN) == [MODEL_ARN]


@pytest.mark.parametrize(
    ("stop_after", "status", "expected"),
    [
        ((NOW + timedelta(seconds=1)).isoformat(), "RUNNING", None),  # images in flight may still call it
        (NOW.isoformat(), "RUNNING", STOP_RETIRING),
        (NOW.isoformat(), "STARTING", None),  # stopped once it is RUNNING
        (NOW.isoformat(), "STOPPED", CLEAR_RETIRING),
        (NOW.isoformat(), "", CLEAR_RETIRING),  # gone
        ("not a time", "RUNNING", STOP_RETIRING),  # unreadable: must not bill forever
        ("2026-12-02T09:00:00", "RUNNING", STOP_RETIRING),  # no zone: unreadable too
    ],
)
def test_a_retiring_version_is_stopped_only_once_its_stop_after_has_passed(stop_after, status, expected):
    assert retirement(retiring_at(stop_after, {MODEL_ARN: status} if status else {}), NOW) == expected


def test_nothing_to_retire_without_a_record():
    assert retirement(Versions(MODEL_ARN, VersionDocument(MODEL_ARN), {MODEL_ARN: "RUNNING"}), NOW) is None
    assert retirement(Versions(MODEL_ARN), NOW) is None


@given(st.sampled_from(MODEL_STATUSES), st.integers(-7200, 7200))
def test_the_version_in_service_is_never_stopped_for_retiring(status, offset):
    versions = retiring_at((NOW + timedelta(seconds=offset)).isoformat(), {MODEL_ARN: status}, in_service_arn=MODEL_ARN)
    assert retirement(versions, NOW) != STOP_RETIRING


def test_a_version_replaced_unannounced_is_the_one_managed_last_that_the_document_does_not_account_for():
    assert replaced_unannounced(VersionDocument(SECOND_ARN), MODEL_ARN) == MODEL_ARN  # a redeploy, a hand edit
    assert replaced_unannounced(VersionDocument(MODEL_ARN), MODEL_ARN) is None
    assert replaced_unannounced(parse_version_document(promoted(stop_after=NOW.isoformat())), MODEL_ARN) is None
    candidate = VersionDocument(SECOND_ARN, promotion=Promotion(MODEL_ARN, "gating", NOW.isoformat()))
    assert replaced_unannounced(candidate, MODEL_ARN) is None
    assert replaced_unannounced(VersionDocument(SECOND_ARN), OTHER_PROJECT_ARN) is None
    assert replaced_unannounced(None, MODEL_ARN) is None
    assert replaced_unannounced(VersionDocument(SECOND_ARN), None) is None
