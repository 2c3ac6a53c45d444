"""The emulated projects' datasets: UpdateDatasetEntries, ListDatasetEntries and DescribeDataset, for the feedback
loop (`customlabels dataset update`) run against the local stack.

A project made with a model (`CustomLabelsService.add_model`) has a TRAIN and a TEST dataset (as every project with a
trained model has), empty until entries are sent; a project made by CreateProject has the datasets CreateDataset gives
it (`create`), `CREATE_IN_PROGRESS` for `update_delay` seconds, then `CREATE_COMPLETE` (training.py).

What Rekognition documents, and botocore's service model bounds (docs/results-and-gallery.md):

- `Changes.GroundTruth` is 1 byte to 5 MB (5,242,880 bytes) of JSON lines; a line whose `source-ref` is already in
  the dataset replaces that entry, any other line is added.
- The call returns at once; the dataset is `UPDATE_IN_PROGRESS` for `update_delay` seconds of the clock, then
  `UPDATE_COMPLETE`. Another update meanwhile is refused with `ResourceInUseException`.
- `ListDatasetEntries` returns the JSON lines, at most `MaxResults` (1-100) a page with a `NextToken`, filtered by
  `ContainsLabels` (any of 1-10 labels), `Labeled`, `SourceRefContains` and `HasErrors`.

Rekognition checks the lines after the call returns and fails the update (`UPDATE_FAILED`) on a terminal error; the
emulator refuses such a line in the call itself, naming it, which tells a user more and changes no dataset.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from customlabels.datasets.manifest import ManifestEntry, ManifestError, parse_document
from customlabels.local.emulator.errors import ServiceError

DATASET_ARN = re.compile(
    r"^(?P<project>arn:[a-z\d-]+:rekognition:[a-z\d-]+:\d{12}:project/[a-zA-Z0-9_.\-]{1,255})"
    r"/dataset/(?P<type>train|test)/(?P<created>[0-9]+)$"
)
"""botocore's pattern of a dataset ARN, with the project's ARN (without its creation time) as a group."""
MAX_CHANGES_BYTES = 5_242_880
"""botocore's bound on `Changes.GroundTruth`, "less than 5MB" in the API reference."""
MAX_ENTRY_CHARACTERS = 100_000
"""botocore's bound on one line of `ListDatasetEntries`' answer: a longer line could never be listed."""
MAX_RESULTS = 100
MAX_CONTAINS_LABELS = 10


@dataclass
class EmulatedDataset:
    arn: str
    dataset_type: str
    created: float
    entries: dict[str, str] = field(default_factory=dict)
    """source-ref -> its JSON line, in the order first added."""
    labels: dict[str, frozenset[str]] = field(default_factory=dict)
    """source-ref -> the labels its line gives (image-level and boxes)."""
    status: str = "CREATE_COMPLETE"
    updated: float = 0.0
    update_done_at: float | None = None
    done_status: str = "UPDATE_COMPLETE"
    """What the dataset becomes at `update_done_at` (CREATE_COMPLETE after CreateDataset)."""
    status_message: str | None = None

    def manifest_entries(self) -> list[ManifestEntry]:
        """The dataset's lines as manifest entries, in the order first added."""
        return [
            parse_document(json.loads(line), number, "dataset") for number, line in enumerate(self.entries.values(), 1)
        ]


class DatasetStore:
    """The datasets the store holds, and the implicit TRAIN and TEST datasets of the projects that `projects()` names
    (project ARNs: `.../project/NAME/CREATED`)."""

    def __init__(
        self, *, clock: Callable[[], float], projects: Callable[[], set[str]], update_delay: float = 0.0
    ) -> None:
        self.clock = clock
        self.projects = projects
        self.update_delay = update_delay
        self.datasets: dict[str, EmulatedDataset] = {}
        self._lock = threading.Lock()

    @property
    def handlers(self) -> dict[str, Callable[[dict[str, Any]], dict[str, Any]]]:
        return {
            "UpdateDatasetEntries": self.update_dataset_entries,
            "ListDatasetEntries": self.list_dataset_entries,
            "DescribeDataset": self.describe_dataset,
        }

    # --- the projects' side ------------------------------------------------------------------------------------

    def project_datasets(self, project_arn: str) -> list[dict[str, Any]]:
        """The `Datasets` of DescribeProjects' description of the project."""
        name_arn, created = project_arn.rsplit("/", 1)
        with self._lock:
            if project_arn in self.projects():
                datasets = [self._dataset(f"{name_arn}/dataset/{kind}/{created}") for kind in ("train", "test")]
            else:
                datasets = [d for d in self.datasets.values() if d.arn.startswith(f"{name_arn}/dataset/")]
            for dataset in datasets:
                self._advance(dataset)
            return [
                {
                    "CreationTimestamp": dataset.created,
                    "DatasetType": dataset.dataset_type,
                    "DatasetArn": dataset.arn,
                    "Status": dataset.status,
                    "StatusMessage": dataset.status_message or _status_message(dataset.status),
                    "StatusMessageCode": _message_code(dataset.status),
                }
                for dataset in datasets
            ]

    def dataset_of(self, project_arn: str, dataset_type: str) -> EmulatedDataset | None:
        """The project's dataset of that type (TRAIN or TEST), if it has one."""
        name_arn, created = project_arn.rsplit("/", 1)
        with self._lock:
            if project_arn in self.projects():
                return self._dataset(f"{name_arn}/dataset/{dataset_type.lower()}/{created}")
            found = [
                d for d in self.datasets.values() if d.arn.startswith(f"{name_arn}/dataset/{dataset_type.lower()}/")
            ]
            if found:
                self._advance(found[0])
            return found[0] if found else None

    def create(self, arn: str, lines: dict[str, tuple[str, frozenset[str]]], failure: str | None = None) -> None:
        """A dataset made by CreateDataset with these lines (source-ref -> line, labels): CREATE_IN_PROGRESS for
        `update_delay`, then CREATE_COMPLETE, or CREATE_FAILED with `failure` as its StatusMessage."""
        match = DATASET_ARN.match(arn)
        now = self.clock()
        with self._lock:
            dataset = self.datasets[arn] = EmulatedDataset(arn, match["type"].upper(), now, updated=now)
            for source_ref, (line, labels) in lines.items():
                dataset.entries[source_ref], dataset.labels[source_ref] = line, labels
            dataset.status, dataset.update_done_at = "CREATE_IN_PROGRESS", now + self.update_delay
            dataset.done_status, dataset.status_message = (
                ("CREATE_FAILED", failure) if failure else ("CREATE_COMPLETE", None)
            )
            self._advance(dataset)

    def find(self, arn: Any) -> EmulatedDataset:
        """The dataset of that ARN, its status brought up to date (InvalidParameter/ResourceNotFound as the operations
        answer)."""
        with self._lock:
            dataset = self._find(arn)
            self._advance(dataset)
            return dataset

    def move(self, source: EmulatedDataset, target: EmulatedDataset, source_refs: list[str]) -> None:
        """Move these entries from one dataset to the other; both are UPDATE_IN_PROGRESS for `update_delay`."""
        now = self.clock()
        with self._lock:
            for source_ref in source_refs:
                target.entries[source_ref] = source.entries.pop(source_ref)
                target.labels[source_ref] = source.labels.pop(source_ref)
            for dataset in (source, target):
                dataset.status, dataset.updated, dataset.update_done_at = (
                    "UPDATE_IN_PROGRESS",
                    now,
                    now + self.update_delay,
                )
                dataset.done_status, dataset.status_message = "UPDATE_COMPLETE", None
                self._advance(dataset)

    # --- operations --------------------------------------------------------------------------------------------

    def update_dataset_entries(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._find(request.get("DatasetArn"))
        parsed = manifest_lines("\n".join(_changed_lines(request.get("Changes"))), "Changes")
        with self._lock:
            dataset = self._find(request.get("DatasetArn"))
            self._advance(dataset)
            if dataset.status == "UPDATE_IN_PROGRESS":
                raise ServiceError(
                    "ResourceInUseException",
                    f"The dataset {dataset.arn} is being updated; try again when DescribeDataset says UPDATE_COMPLETE",
                )
            for source_ref, (line, labels) in parsed.items():
                dataset.entries[source_ref] = line
                dataset.labels[source_ref] = labels
            now = self.clock()
            dataset.updated = now
            dataset.status = "UPDATE_IN_PROGRESS"
            dataset.update_done_at = now + self.update_delay
            dataset.done_status = "UPDATE_COMPLETE"
            self._advance(dataset)
        return {}

    def list_dataset_entries(self, request: dict[str, Any]) -> dict[str, Any]:
        maximum = request.get("MaxResults", MAX_RESULTS)
        if not isinstance(maximum, int) or not 1 <= maximum <= MAX_RESULTS:
            raise ServiceError("InvalidParameterException", f"MaxResults must be 1 to {MAX_RESULTS}")
        wanted = request.get("ContainsLabels")
        if wanted is not None and (not isinstance(wanted, list) or not 1 <= len(wanted) <= MAX_CONTAINS_LABELS):
            raise ServiceError("InvalidParameterException", f"ContainsLabels takes 1 to {MAX_CONTAINS_LABELS} labels")
        contains = request.get("SourceRefContains")
        labeled, has_errors = request.get("Labeled"), request.get("HasErrors")
        with self._lock:
            dataset = self._find(request.get("DatasetArn"))
            self._advance(dataset)
            chosen = [
                line
                for source_ref, line in dataset.entries.items()
                if (wanted is None or dataset.labels[source_ref] & set(wanted))
                and (labeled is None or bool(dataset.labels[source_ref]) == labeled)
                and (contains is None or contains in source_ref)
                and not has_errors
            ]  # the emulator keeps no entry with errors
        start = _start(request.get("NextToken"), len(chosen))
        answer: dict[str, Any] = {"DatasetEntries": chosen[start : start + maximum]}
        if start + maximum < len(chosen):
            answer["NextToken"] = _token(start + maximum)
        return answer

    def describe_dataset(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            dataset = self._find(request.get("DatasetArn"))
            self._advance(dataset)
            labels = set().union(*dataset.labels.values()) if dataset.labels else set()
            return {
                "DatasetDescription": {
                    "CreationTimestamp": dataset.created,
                    "LastUpdatedTimestamp": dataset.updated or dataset.created,
                    "Status": dataset.status,
                    "StatusMessage": dataset.status_message or _status_message(dataset.status),
                    "StatusMessageCode": _message_code(dataset.status),
                    "DatasetStats": {
                        "LabeledEntries": sum(1 for found in dataset.labels.values() if found),
                        "TotalEntries": len(dataset.entries),
                        "TotalLabels": len(labels),
                        "ErrorEntries": 0,
                    },
                }
            }

    # --- helpers -----------------------------------------------------------------------------------------------

    def _find(self, arn: Any) -> EmulatedDataset:
        match = DATASET_ARN.match(arn) if isinstance(arn, str) else None
        if match is None:
            raise ServiceError(
                "InvalidParameterException",
                f"DatasetArn {arn!r} is not a dataset ARN "
                "(arn:aws:rekognition:REGION:ACCOUNT:project/NAME/dataset/train|test/NUMBER)",
            )
        if arn in self.datasets:
            return self.datasets[arn]
        if not any(project.rsplit("/", 1)[0] == match["project"] for project in self.projects()):
            raise ServiceError(
                "ResourceNotFoundException", f"The dataset {arn} was not found: no such project or dataset"
            )
        return self._dataset(arn)

    def _dataset(self, arn: str) -> EmulatedDataset:
        if arn not in self.datasets:
            match = DATASET_ARN.match(arn)
            self.datasets[arn] = EmulatedDataset(arn, match["type"].upper(), int(match["created"]) / 1000)
        return self.datasets[arn]

    def _advance(self, dataset: EmulatedDataset) -> None:
        if dataset.update_done_at is not None and self.clock() >= dataset.update_done_at:
            dataset.status, dataset.update_done_at = dataset.done_status, None


def _changed_lines(changes: Any) -> list[str]:
    """The JSON lines of `Changes.GroundTruth` (base64 on the wire, as botocore sends a blob)."""
    if not isinstance(changes, dict) or not isinstance(changes.get("GroundTruth"), str):
        raise ServiceError(
            "InvalidParameterException", "Changes.GroundTruth is required: the JSON lines to add or update"
        )
    try:
        data = base64.b64decode(changes["GroundTruth"], validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError("InvalidParameterException", "Changes.GroundTruth is not base64") from None
    if not 1 <= len(data) <= MAX_CHANGES_BYTES:
        raise ServiceError(
            "InvalidParameterException",
            f"Changes.GroundTruth is {len(data)} bytes: it must be 1 to "
            f"{MAX_CHANGES_BYTES} (5 MB); send the lines in several calls",
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ServiceError("InvalidParameterException", "Changes.GroundTruth is not UTF-8 text") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise ServiceError("InvalidParameterException", "Changes.GroundTruth holds no JSON line")
    return lines


def manifest_lines(text: str, source: str) -> dict[str, tuple[str, frozenset[str]]]:
    """A manifest's lines by source-ref (a later line of the same source-ref wins), each checked as `_entry`."""
    parsed = {}
    for number, line in enumerate((line for line in text.splitlines() if line.strip()), start=1):
        source_ref, labels = _entry(line, number, source)
        parsed[source_ref] = (line, labels)
    return parsed


def _entry(line: str, number: int, source: str = "Changes") -> tuple[str, frozenset[str]]:
    """The line's source-ref and labels; a line Rekognition would fail the update on is refused, named."""
    if len(line) > MAX_ENTRY_CHARACTERS:
        raise ServiceError(
            "InvalidParameterException",
            f"line {number} of {source} is {len(line)} characters; a dataset entry holds at most "
            f"{MAX_ENTRY_CHARACTERS}",
        )
    try:
        entry = parse_document(json.loads(line), number, source)
    except json.JSONDecodeError as error:
        raise ServiceError("InvalidParameterException", f"{source}:{number}: not a JSON object ({error.msg})") from None
    except ManifestError as error:
        raise ServiceError("InvalidParameterException", str(error)) from None
    if not entry.source_ref.startswith("s3://"):
        raise ServiceError(
            "InvalidParameterException", f"{source}:{number}: source-ref {entry.source_ref!r} is not an s3:// URI"
        )
    return entry.source_ref, frozenset(entry.labels) | {box.label for box in entry.boxes}


def _token(position: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"position": position}).encode()).decode()


def _start(token: Any, total: int) -> int:
    if token is None:
        return 0
    try:
        position = json.loads(base64.urlsafe_b64decode(token))["position"]
    except (binascii.Error, ValueError, TypeError, KeyError):
        position = None
    if not isinstance(position, int) or not 0 <= position <= total:
        raise ServiceError("InvalidPaginationTokenException", "NextToken is not one this dataset gave")
    return position


def _message_code(status: str) -> str:
    return "CLIENT_ERROR" if status.endswith("_FAILED") else "SUCCESS"


def _status_message(status: str) -> str:
    return {
        "CREATE_IN_PROGRESS": "The dataset is being created.",
        "CREATE_COMPLETE": "The dataset is created.",
        "UPDATE_IN_PROGRESS": "The dataset is being updated.",
        "UPDATE_COMPLETE": "The dataset is updated.",
    }.get(status, status)
