"""`dataset update`: manifest lines sent to a model's training (or test) dataset with `UpdateDatasetEntries`.

Rekognition takes at most 5 MB of JSON lines a call (`Changes.GroundTruth`, 5,242,880 bytes in botocore's
model), answers at once and updates the dataset in the background (`UPDATE_IN_PROGRESS`, then `UPDATE_COMPLETE` or
`UPDATE_FAILED`); a second update meanwhile is refused (`ResourceInUseException`). So the lines go in calls of at
most 5 MB, each sent once the previous update has completed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from customlabels.config import MODEL_ARN_PATTERN
from customlabels.errors import CommandError

MAX_CHANGES_BYTES = 5_242_880
DONE = {"UPDATE_COMPLETE", "CREATE_COMPLETE"}
FAILED = {"UPDATE_FAILED", "CREATE_FAILED"}


def batches(lines: Sequence[str], limit: int = MAX_CHANGES_BYTES) -> list[bytes]:
    """The lines as few `Changes.GroundTruth` payloads of at most `limit` bytes as their order allows."""
    payloads: list[bytes] = []
    current = b""
    for number, line in enumerate(lines, start=1):
        encoded = line.encode("utf-8") + b"\n"
        if len(encoded) > limit:
            raise CommandError(
                f"line {number} is {len(encoded):,} bytes; one call takes at most {limit:,}. Fix: "
                "check the line (a manifest line is a few kB)"
            )
        if len(current) + len(encoded) > limit:
            payloads.append(current)
            current = b""
        current += encoded
    return [*payloads, current] if current else payloads


def dataset_arn(rekognition: Any, model_arn: str, dataset_type: str = "TRAIN") -> str:
    """The model's project's dataset of that type, from DescribeProjects."""
    match = MODEL_ARN_PATTERN.match(model_arn)
    if match is None:
        raise CommandError(f"{model_arn!r} is not a project version ARN")
    project = model_arn.split(":project/", 1)[1].split("/", 1)[0]
    descriptions = rekognition.describe_projects(ProjectNames=[project])["ProjectDescriptions"]
    for description in descriptions:
        for dataset in description.get("Datasets", []):
            if dataset["DatasetType"] == dataset_type:
                return dataset["DatasetArn"]
    raise CommandError(
        f"project {project} has no {dataset_type.lower()} dataset. Fix: create it (Rekognition "
        "console, or CreateDataset) or train the model from datasets, then run this again"
    )


def wait_for_update(
    rekognition: Any,
    arn: str,
    *,
    timeout: float,
    poll: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, Any]:
    """DescribeDataset until the update is done; a failed update or the timeout is an error naming the fix."""
    deadline = clock() + timeout
    while True:
        description = rekognition.describe_dataset(DatasetArn=arn)["DatasetDescription"]
        if description["Status"] in DONE:
            return description
        if description["Status"] in FAILED:
            raise CommandError(
                f"the update of {arn} failed: {description.get('StatusMessage', '')}. Fix: check the "
                "lines with `customlabels manifest validate`, and ListDatasetEntries (HasErrors)"
            )
        if clock() >= deadline:
            raise CommandError(
                f"{arn} is still {description['Status']} after {timeout:g} s. Fix: check later with "
                "`aws rekognition describe-dataset`, or give a longer --timeout"
            )
        sleep(poll)


def update(
    rekognition: Any,
    arn: str,
    lines: Sequence[str],
    *,
    timeout: float = 900,
    poll: float = 5,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_batch: Callable[[int, int], None] | None = None,
    limit: int = MAX_CHANGES_BYTES,
) -> dict[str, Any]:
    """Sends the lines batch by batch, each after the previous update completed; returns the final description."""
    payloads = batches(lines, limit)
    for index, payload in enumerate(payloads, start=1):
        wait_for_update(rekognition, arn, timeout=timeout, poll=poll, sleep=sleep, clock=clock)
        rekognition.update_dataset_entries(DatasetArn=arn, Changes={"GroundTruth": payload})
        if on_batch:
            on_batch(index, len(payloads))
    return wait_for_update(rekognition, arn, timeout=timeout, poll=poll, sleep=sleep, clock=clock)
