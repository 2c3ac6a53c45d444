"""`model train`: a new model version trained from Ground Truth manifests, over the clients it is given.

In named steps, each reporting what it did through `on_step`: the project is found or created (CreateProject);
the manifests are uploaded to the pipeline's bucket under `training/` (a prefix the pipeline never reads as images);
the TRAIN dataset is created from its manifest or, when the project has one, updated with its lines
(UpdateDatasetEntries, as `dataset update`); the TEST dataset likewise from `--test-manifest`, or made by
DistributeDatasetEntries (`--auto-split`: 20% of the training images move to it); then CreateProjectVersion with its
output in the pipeline's bucket, followed (DescribeProjectVersions) until TRAINING_COMPLETED or TRAINING_FAILED, and
the evaluation read from DescribeProjectVersions and the evaluation summary file. Time comes from `clock` and
`sleep`, so a test follows a training on a simulated clock.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from customlabels.config import MODEL_ARN_PATTERN
from customlabels.errors import CommandError
from customlabels.operations import dataset as datasets
from customlabels_runtime.contract import TRAINING_PREFIX, error_code, error_message

TRAINING = "TRAINING_IN_PROGRESS"
"""The one status a training is followed through; any other means it has ended (a version followed again later may
be RUNNING or STOPPED by then)."""
READY = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
FAILED_DATASET = {"CREATE_FAILED", "UPDATE_FAILED"}


@dataclass(frozen=True)
class TrainingPlan:
    """What to train: the project, the manifests' lines, how the TEST dataset is made, where the files go."""

    project: str
    version_name: str
    bucket: str
    train_lines: Sequence[str] | None
    """None: train the project's TRAIN dataset as it is (after `dataset update`, the loop's step before)."""
    test_lines: Sequence[str] | None = None
    auto_split: bool = False
    prefix: str = TRAINING_PREFIX

    def key(self, name: str) -> str:
        return f"{self.prefix}{self.version_name}/{name}"


@dataclass
class Started:
    """A training started: its version and project, and what was created or reused on the way."""

    version_arn: str
    project_arn: str
    steps: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LabelScore:
    label: str
    f1: float | None
    precision: float | None
    recall: float | None
    threshold: float | None
    """The assumed threshold, 0-100 (the summary file gives it as 0-1)."""
    testing_images: int | None = None


@dataclass(frozen=True)
class TrainingEvaluation:
    """The service's evaluation of a trained version: the overall F1 of DescribeProjectVersions, and per label
    what the evaluation summary file gives."""

    f1: float | None
    precision: float | None
    recall: float | None
    labels: list[LabelScore]
    summary_uri: str | None


def timestamped_name(now: datetime) -> str:
    """The default version name: `v` and the UTC time to the second (the characters a version name allows)."""
    return now.astimezone(UTC).strftime("v%Y%m%d-%H%M%S")


def name_problem(option: str, name: str) -> str | None:
    """Why Rekognition would refuse `name` as a project or version name (botocore's pattern and length), or None."""
    from botocore.session import get_session

    shape = get_session().get_service_model("rekognition").shape_for("ProjectName")
    low, high, pattern = shape.metadata["min"], shape.metadata["max"], shape.metadata["pattern"]
    if low <= len(name) <= high and re.fullmatch(pattern, name):
        return None
    return (
        f"{option} {name!r}: Rekognition takes {low} to {high} letters, digits, '_', '.' or '-'. Fix: e.g. "
        f"{option} {re.sub(r'[^a-zA-Z0-9_.-]+', '-', name).strip('-')[:high] or 'bees'}"
    )


def version_parts(version_arn: str) -> tuple[str, str]:
    """The project name and version name of a version ARN (`.../project/NAME/version/VERSION/CREATED`)."""
    match = MODEL_ARN_PATTERN.match(version_arn)
    if match is None:
        raise CommandError(
            f"{version_arn!r} is not a project version ARN (arn:aws:rekognition:REGION:ACCOUNT:project/NAME/version/"
            "VERSION/NUMBER). Fix: copy the one `model train` printed"
        )
    return match["project"], match["version"]


# --- starting a training ------------------------------------------------------------------------------------------


def start_training(
    rekognition: Any,
    s3: Any,
    plan: TrainingPlan,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll: float = 5.0,
    timeout: float = 900.0,
    on_step: Callable[[str], None] = lambda _: None,
) -> Started:
    """The project, the manifests in the bucket, both datasets ready, and CreateProjectVersion: the version ARN."""
    started = Started("", "")

    def step(text: str) -> None:
        started.steps.append(text)
        on_step(text)

    started.project_arn, datasets_now = _project(rekognition, plan.project, step)
    if plan.train_lines is None and "TRAIN" not in datasets_now:
        raise CommandError(
            f"project {plan.project} has no training dataset to train as it is. Fix: give --train-manifest FILE "
            "(the training images' Ground Truth manifest)"
        )
    train_key = _upload(s3, plan, "train.manifest", plan.train_lines, step) if plan.train_lines is not None else None
    test_key = _upload(s3, plan, "test.manifest", plan.test_lines, step) if plan.test_lines is not None else None
    wait = {"clock": clock, "sleep": sleep, "poll": poll, "timeout": timeout}
    train_arn = _dataset(
        rekognition, started.project_arn, "TRAIN", datasets_now, plan, train_key, plan.train_lines, step, wait
    )
    _test_dataset(rekognition, started.project_arn, datasets_now, plan, test_key, train_arn, step, wait)
    try:
        started.version_arn = rekognition.create_project_version(
            ProjectArn=started.project_arn,
            VersionName=plan.version_name,
            OutputConfig={"S3Bucket": plan.bucket, "S3KeyPrefix": f"{plan.prefix}output/"},
        )["ProjectVersionArn"]
    except rekognition.exceptions.ResourceInUseException as error:
        raise CommandError(
            f"version {plan.version_name} of {plan.project}: {error_message(error)}. Fix: give another "
            "--version-name (or leave it out for a timestamped one)"
        ) from None
    step(f"started training {started.version_arn}")
    return started


def _project(rekognition: Any, name: str, step: Callable[[str], None]) -> tuple[str, dict[str, str]]:
    """The project's ARN and its datasets by type, created when it does not exist."""
    found = rekognition.describe_projects(ProjectNames=[name]).get("ProjectDescriptions", [])
    if found:
        step(f"reused project {found[0]['ProjectArn']}")
        return found[0]["ProjectArn"], {d["DatasetType"]: d["DatasetArn"] for d in found[0].get("Datasets", [])}
    arn = rekognition.create_project(ProjectName=name)["ProjectArn"]
    step(f"created project {arn}")
    return arn, {}


def _upload(s3: Any, plan: TrainingPlan, name: str, lines: Sequence[str], step: Callable[[str], None]) -> str:
    key = plan.key(name)
    s3.put_object(Bucket=plan.bucket, Key=key, Body="".join(f"{line}\n" for line in lines).encode("utf-8"))
    step(f"uploaded {len(lines)} line(s) to s3://{plan.bucket}/{key}")
    return key


def _dataset(
    rekognition: Any,
    project_arn: str,
    kind: str,
    existing: dict[str, str],
    plan: TrainingPlan,
    key: str | None,
    lines: Sequence[str] | None,
    step: Callable[[str], None],
    wait: dict[str, Any],
) -> str:
    """The project's dataset of `kind`: created from the uploaded manifest (empty without one), or the one it has,
    updated with the manifest's lines; ready (CREATE_COMPLETE or UPDATE_COMPLETE) when this returns."""
    name = kind.lower()
    if kind in existing:
        arn = existing[kind]
        _wait_ready(rekognition, arn, wait)
        if lines:
            datasets.update(rekognition, arn, lines, **_update_wait(wait))
            step(f"reused the {name} dataset {arn}: {len(lines)} line(s) added or updated")
        else:
            step(f"reused the {name} dataset {arn} as it is")
        return arn
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": plan.bucket, "Name": key}}} if key else None
    arn = rekognition.create_dataset(
        ProjectArn=project_arn, DatasetType=kind, **({"DatasetSource": source} if source else {})
    )["DatasetArn"]
    _wait_ready(rekognition, arn, wait)
    step(f"created the {name} dataset {arn}" + (f" from s3://{plan.bucket}/{key}" if key else " (empty)"))
    return arn


def _test_dataset(
    rekognition: Any,
    project_arn: str,
    existing: dict[str, str],
    plan: TrainingPlan,
    key: str | None,
    train_arn: str,
    step: Callable[[str], None],
    wait: dict[str, Any],
) -> None:
    """The TEST dataset: from --test-manifest, or split from TRAIN (--auto-split), or the one the project has."""
    if plan.test_lines is not None:
        _dataset(rekognition, project_arn, "TEST", existing, plan, key, plan.test_lines, step, wait)
        return
    if not plan.auto_split:
        if "TEST" not in existing:
            raise CommandError(
                f"project {plan.project} has no test dataset. Fix: give --test-manifest FILE, or --auto-split to "
                "move 20% of the training images into one"
            )
        _wait_ready(rekognition, existing["TEST"], wait)
        step(f"reused the test dataset {existing['TEST']} as it is")
        return
    test_arn = _dataset(rekognition, project_arn, "TEST", existing, plan, None, None, step, wait)
    entries = rekognition.describe_dataset(DatasetArn=test_arn)["DatasetDescription"].get("DatasetStats", {})
    if entries.get("TotalEntries"):
        step(f"--auto-split: the test dataset already holds {entries['TotalEntries']} image(s); kept as it is")
        return
    rekognition.distribute_dataset_entries(Datasets=[{"Arn": train_arn}, {"Arn": test_arn}])
    for arn in (train_arn, test_arn):
        _wait_ready(rekognition, arn, wait)
    step("--auto-split: 20% of the training images moved to the test dataset (DistributeDatasetEntries)")


def _update_wait(wait: dict[str, Any]) -> dict[str, Any]:
    return {"timeout": wait["timeout"], "poll": wait["poll"], "sleep": wait["sleep"], "clock": wait["clock"]}


def _wait_ready(rekognition: Any, arn: str, wait: dict[str, Any]) -> None:
    """DescribeDataset until the dataset is created or updated; failed, or still busy after the timeout, is an error
    naming the dataset's StatusMessage and the fix."""
    deadline = wait["clock"]() + wait["timeout"]
    while True:
        description = rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]
        if description["Status"] in READY:
            return
        if description["Status"] in FAILED_DATASET:
            raise CommandError(
                f"the dataset {arn} is {description['Status']}: {description.get('StatusMessage', '')}. Fix: correct "
                "the manifest (`customlabels manifest validate`), or add images of the labels it names"
            )
        if wait["clock"]() >= deadline:
            raise CommandError(f"the dataset {arn} is still {description['Status']} after {wait['timeout']:g} s")
        wait["sleep"](wait["poll"])


# --- following it and reading its evaluation --------------------------------------------------------------------


def follow(
    rekognition: Any,
    version_arn: str,
    *,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    poll: float = 60.0,
    on_status: Callable[[str, float], None] = lambda _status, _elapsed: None,
) -> dict[str, Any]:
    """DescribeProjectVersions every `poll` seconds until the training ended (TRAINING_COMPLETED, TRAINING_FAILED, or
    a status a trained version moves on to); `on_status` hears
    each status with the seconds since following began. Training takes from 30 minutes to 24 hours on AWS."""
    project, name = version_parts(version_arn)
    projects = rekognition.describe_projects(ProjectNames=[project]).get("ProjectDescriptions", [])
    if not projects:
        raise CommandError(f"{version_arn}: no project {project} here. Fix: check the ARN and the region")
    began = clock()
    while True:
        found = rekognition.describe_project_versions(ProjectArn=projects[0]["ProjectArn"], VersionNames=[name])
        descriptions = [d for d in found["ProjectVersionDescriptions"] if d["ProjectVersionArn"] == version_arn]
        if not descriptions:
            raise CommandError(f"{version_arn} was not found in its project. Fix: check the ARN and the region")
        on_status(descriptions[0]["Status"], clock() - began)
        if descriptions[0]["Status"] != TRAINING:  # trained (and maybe started, stopped, expired since) or failed
            return descriptions[0]
        sleep(poll)


def failure_line(description: dict[str, Any]) -> str:
    """The service's StatusMessage of a failed training, in one line."""
    return " ".join(str(description.get("StatusMessage") or "no StatusMessage").split())


def evaluation(s3: Any, description: dict[str, Any]) -> TrainingEvaluation:
    """The overall F1 of DescribeProjectVersions, and per label the evaluation summary file's F1, precision,
    recall and assumed threshold (a summary that cannot be read leaves the labels out, saying so)."""
    result = description.get("EvaluationResult") or {}
    location = (result.get("Summary") or {}).get("S3Object") or {}
    uri = f"s3://{location['Bucket']}/{location['Name']}" if location.get("Bucket") and location.get("Name") else None
    document: dict[str, Any] = {}
    if uri is not None:
        try:
            document = json.loads(s3.get_object(Bucket=location["Bucket"], Key=location["Name"])["Body"].read())
        except s3.exceptions.ClientError as error:
            raise CommandError(
                f"{uri}: {error_code(error)} {error_message(error)}. Fix: allow s3:GetObject on the training output "
                "(the stack's ModelTrainerPolicyArn does)"
            ) from None
    aggregated = document.get("AggregatedEvaluationResults") or {}
    overall = aggregated.get("Metrics", aggregated)  # the reference nests them in Metrics; its example does not
    labels = [
        LabelScore(
            item.get("Label", "?"),
            (item.get("Metrics") or {}).get("F1Score"),
            (item.get("Metrics") or {}).get("Precision"),
            (item.get("Metrics") or {}).get("Recall"),
            None if (item.get("Metrics") or {}).get("Threshold") is None else item["Metrics"]["Threshold"] * 100,
            item.get("NumberOfTestingImages"),
        )
        for item in document.get("LabelEvaluationResults") or document.get("labelEvaluationResults") or []
    ]
    return TrainingEvaluation(
        result.get("F1Score", overall.get("F1Score")), overall.get("Precision"), overall.get("Recall"), labels, uri
    )
