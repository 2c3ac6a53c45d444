"""The training operations of the emulated service: CreateProject, CreateDataset, DistributeDatasetEntries and
CreateProjectVersion, and the end of a training (what it checks and computes is trained.py's).

As the API reference documents them (requests first checked against botocore's model, by the service's front end):

- CreateProject: a name already in use is `ResourceInUseException`. The project has no dataset until CreateDataset.
- CreateDataset: from `DatasetSource.GroundTruthManifest.S3Object` (read through the service's S3 reader) or a
  `DatasetSource.DatasetArn` to copy, or empty; a second dataset of a type is `ResourceAlreadyExistsException`, an
  unknown project `ResourceNotFoundException`, a manifest that cannot be read `InvalidS3ObjectException`.
- DistributeDatasetEntries: a TRAIN and an empty TEST dataset of one project; 20% of the TRAIN entries move to TEST
  (trained.split_for_test); a dataset being created or updated is `ResourceNotReadyException`.
- CreateProjectVersion: trains from the project's datasets, or (a project without datasets) from `TrainingData` and
  `TestingData` manifests (`TestingData.AutoCreate` splits the training manifest); TrainingData without TestingData,
  or given to a project with datasets, is `InvalidParameterException`; a version name in use `ResourceInUseException`.
  The version is TRAINING_IN_PROGRESS for `training_delay` seconds of the service's clock, then TRAINING_COMPLETED
  (its evaluation summary and manifests written to OutputConfig's bucket through `write_s3_object`) or
  TRAINING_FAILED with the documented message of what stopped it.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from customlabels.datasets.manifest import ManifestEntry, parse_document
from customlabels.local.emulator import trained
from customlabels.local.emulator.backends import Noise
from customlabels.local.emulator.capacity import Capacity
from customlabels.local.emulator.datasets import DATASET_ARN, DatasetStore, manifest_lines
from customlabels.local.emulator.detection import ReadS3Object
from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.models import EmulatedModel, Project

WriteS3Object = Callable[[str, str, bytes], None]
"""(bucket, key, body) -> None: how the emulator writes training's outputs to S3 (OSError when it cannot)."""

READY = {"CREATE_COMPLETE", "UPDATE_COMPLETE"}
MANIFEST_UNREADABLE = "The manifest file extension or contents are invalid."
CANNOT_WRITE = "Unable to write to output S3 bucket."


@dataclass(frozen=True)
class TrainingSettings:
    """How the emulated service trains: `delay` seconds of its clock; outputs written through `write_s3_object`;
    a trained version imperfect by `noise`, seeded by `seed`; the projects CreateProject makes in `region` and
    `account` (default: those of the models added, else us-east-1 and 123456789012); `wall_clock` gives the ARNs'
    creation times and the timestamps of training."""

    delay: float = 0.0
    write_s3_object: WriteS3Object | None = None
    noise: Noise = field(default_factory=Noise)
    seed: int = 0
    region: str | None = None
    account: str | None = None
    wall_clock: Callable[[], float] = time.time


class Service(Protocol):
    """What training uses of the service (rekognition.CustomLabelsService)."""

    projects: dict[str, Project]
    models: dict[str, EmulatedModel]
    datasets: DatasetStore
    read_s3_object: ReadS3Object | None
    clock: Callable[[], float]
    _lock: threading.Lock

    def _capacity(self, tps: float | None, up: float | None, down: float | None) -> Capacity: ...


@dataclass
class TrainingJob:
    """One version's training: its data (or the terminal error already found), when it ends, where it writes."""

    train: list[str]
    test: list[str]
    """The JSON lines trained and tested on."""
    done_at: float
    started_wall: float
    output: dict[str, str]
    problem: tuple[str, str, str] | None = None


class Training:
    """The training operations over the service's projects, datasets and models (the service's lock is held by the
    front end's callers where they touch shared state)."""

    def __init__(self, service: Service, settings: TrainingSettings) -> None:
        self.service, self.settings = service, settings
        self._last_timestamp = 0
        self.jobs: dict[str, TrainingJob] = {}
        self.planned_failures: dict[str, str] = {}
        """Version name -> the StatusMessage its training fails with (a rehearsal's plan)."""

    @property
    def handlers(self) -> dict[str, Any]:
        return {
            "CreateProject": self.create_project,
            "CreateDataset": self.create_dataset,
            "DistributeDatasetEntries": self.distribute_dataset_entries,
            "CreateProjectVersion": self.create_project_version,
        }

    @property
    def region(self) -> str:
        found = (p.arn.split(":")[3] for p in self.service.projects.values())
        return self.settings.region or next(found, "us-east-1")

    @property
    def account(self) -> str:
        found = (p.arn.split(":")[4] for p in self.service.projects.values())
        return self.settings.account or next(found, "123456789012")

    def new_timestamp(self) -> int:
        """A creation time in ms for an ARN, later than any given before (two ARNs never share one)."""
        self._last_timestamp = max(int(self.settings.wall_clock() * 1000), self._last_timestamp + 1)
        return self._last_timestamp

    # --- operations ----------------------------------------------------------------------------------------------

    def create_project(self, request: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        with service._lock:
            prefix = f"arn:aws:rekognition:{self.region}:{self.account}:project/{request['ProjectName']}"
            if prefix in service.projects:
                raise ServiceError(
                    "ResourceInUseException",
                    f"The project {request['ProjectName']} already exists: {service.projects[prefix].arn}",
                )
            created = self.new_timestamp()
            project = service.projects[prefix] = Project(f"{prefix}/{created}", created / 1000, datasets_implicit=False)
            return {"ProjectArn": project.arn}

    def create_dataset(self, request: dict[str, Any]) -> dict[str, Any]:
        project = self._project(request["ProjectArn"])
        kind = request["DatasetType"]
        if self.service.datasets.dataset_of(project.arn, kind) is not None:
            raise ServiceError(
                "ResourceAlreadyExistsException", f"The project {project.name} already has a {kind} dataset"
            )
        source = request.get("DatasetSource") or {}
        lines: dict[str, tuple[str, frozenset[str]]] = {}
        failure = None
        if source.get("DatasetArn"):
            copied = self.service.datasets.find(source["DatasetArn"])
            lines = {ref: (line, copied.labels[ref]) for ref, line in copied.entries.items()}
        elif (source.get("GroundTruthManifest") or {}).get("S3Object"):
            text = self._read_manifest(source["GroundTruthManifest"]["S3Object"])
            try:
                lines = manifest_lines(text, "manifest")
            except ServiceError:
                failure = MANIFEST_UNREADABLE  # Rekognition reads the manifest after answering: the dataset fails
        name_arn, _ = project.arn.rsplit("/", 1)
        arn = f"{name_arn}/dataset/{kind.lower()}/{self.new_timestamp()}"
        self.service.datasets.create(arn, lines, failure)
        return {"DatasetArn": arn}

    def distribute_dataset_entries(self, request: dict[str, Any]) -> dict[str, Any]:
        found = [self.service.datasets.find(item["Arn"]) for item in request["Datasets"]]
        kinds = {dataset.dataset_type: dataset for dataset in found}
        projects = {DATASET_ARN.match(dataset.arn)["project"] for dataset in found}
        if len(found) != 2 or set(kinds) != {"TRAIN", "TEST"} or len(projects) != 1:
            raise ServiceError(
                "InvalidParameterException", "Datasets must be the TRAIN and the TEST dataset of one project"
            )
        train, test = kinds["TRAIN"], kinds["TEST"]
        for dataset in (train, test):
            if dataset.status not in READY:
                raise ServiceError("ResourceNotReadyException", f"The dataset {dataset.arn} is {dataset.status}")
        if test.entries:
            raise ServiceError("InvalidParameterException", f"The test dataset {test.arn} must be empty")
        moved = trained.split_for_test(train.manifest_entries(), seed=train.arn)
        if moved is None:
            for dataset in (train, test):
                dataset.status, dataset.status_message = "UPDATE_FAILED", trained.AUTOSPLIT[1]
            return {}
        self.service.datasets.move(train, test, moved)
        return {}

    def create_project_version(self, request: dict[str, Any]) -> dict[str, Any]:
        service = self.service
        project = self._project(request["ProjectArn"])
        name = request["VersionName"]
        with service._lock:
            if any(m.project_arn == project.arn and m.version_name == name for m in service.models.values()):
                raise ServiceError("ResourceInUseException", f"The version name {name} is in use in {project.name}")
        train, test, problem = self._training_data(project, request)
        created = self.new_timestamp()
        arn = f"{project.arn.rsplit('/', 1)[0]}/version/{name}/{created}"
        output = {
            key: request["OutputConfig"][key] for key in ("S3Bucket", "S3KeyPrefix") if request["OutputConfig"].get(key)
        }
        now = service.clock()
        with service._lock:
            model = service.models[arn] = EmulatedModel(
                arn,
                project.arn,
                status="TRAINING_IN_PROGRESS",
                capacity=service._capacity(None, None, None),
                status_since=now,
            )
            model.history.append((now, model.status))
            model.trained = {
                "OutputConfig": output,
                **({"KmsKeyId": request["KmsKeyId"]} if request.get("KmsKeyId") else {}),
            }
            if request.get("VersionDescription"):
                model.trained["VersionDescription"] = request["VersionDescription"]
            self.jobs[arn] = TrainingJob(
                train,
                test,
                now + self.settings.delay,
                self.settings.wall_clock(),
                output,
                problem,
            )
        return {"ProjectVersionArn": arn}

    # --- the end of a training --------------------------------------------------------------------------------------

    def advance(self, model: EmulatedModel, now: float) -> None:
        """TRAINING_IN_PROGRESS -> TRAINING_COMPLETED or TRAINING_FAILED once `training_delay` has passed."""
        job = self.jobs.get(model.arn)
        if model.status != "TRAINING_IN_PROGRESS" or job is None or now < job.done_at:
            return
        del self.jobs[model.arn]
        try:
            failure = self._finish(job, model)
        except OSError:  # the output bucket refused a file (write_s3_object raised)
            failure = CANNOT_WRITE
        if failure is not None:
            model.settle("TRAINING_FAILED", failure, job.done_at)
        else:
            model.settle("TRAINING_COMPLETED", None, job.done_at)

    def _finish(self, job: TrainingJob, model: EmulatedModel) -> str | None:
        """Write what training leaves and train; the StatusMessage of a failure, or None."""
        train, test = entries_of(job.train), entries_of(job.test)
        elapsed = job.done_at - model.status_since
        end = datetime.fromtimestamp(job.started_wall + elapsed, UTC)
        problem = job.problem or trained.training_problem(train, test)
        summary = self._write(job, model, "manifest_summary.json", trained.manifest_summary(train, test, problem))
        model.trained.update(
            {
                "TrainingEndTimestamp": end.timestamp(),
                "TrainingDataResult": self._data_result(job, model, "training", job.train),
                "TestingDataResult": self._data_result(job, model, "testing", job.test),
                "ManifestSummary": {"S3Object": summary},
            }
        )
        planned = self.planned_failures.get(model.version_name)
        if planned is not None or problem is not None:
            return planned or problem[2]
        result = trained.train(train, test, self.settings.noise, self.settings.seed)
        document = trained.evaluation_summary(result, model.arn, end.isoformat(), len(train), len(test))
        project = model.project_arn.split("/")[1]
        location = self._write(job, model, f"EvaluationSummary-{project}-{model.version_name}.json", document)
        model.backend, model.assumed_thresholds = result.backend, dict(result.assumed_thresholds)
        model.evaluation_summary = (location["Bucket"], location["Name"])
        model.trained["BillableTrainingTimeInSeconds"] = int(elapsed)
        model.trained["EvaluationResult"] = {"F1Score": result.overall["f1"] or 0.0, "Summary": {"S3Object": location}}
        return None

    # --- helpers --------------------------------------------------------------------------------------------------

    def _project(self, arn: str) -> Project:
        with self.service._lock:
            for project in self.service.projects.values():
                if project.arn == arn:
                    return project
        raise ServiceError("ResourceNotFoundException", f"Project {arn} was not found")

    def _read_manifest(self, s3_object: dict[str, Any]) -> str:
        reader = self.service.read_s3_object
        try:
            if reader is None:
                raise OSError("the emulator has no S3 to read from")
            return reader(s3_object["Bucket"], s3_object["Name"], s3_object.get("Version")).decode("utf-8")
        except Exception as error:  # any failure to read is what Rekognition reports as this code
            raise ServiceError(
                "InvalidS3ObjectException",
                f"Unable to get object s3://{s3_object.get('Bucket')}/{s3_object.get('Name')}. Check the key, region "
                f"and access permissions. ({error})",
            ) from None

    def _training_data(
        self, project: Project, request: dict[str, Any]
    ) -> tuple[list[str], list[str], tuple[str, str, str] | None]:
        """The entries to train and test on: the project's datasets, or the request's manifests."""
        training, testing = request.get("TrainingData"), request.get("TestingData")
        datasets = {kind: self.service.datasets.dataset_of(project.arn, kind) for kind in ("TRAIN", "TEST")}
        has_datasets = any(datasets.values()) and not project.datasets_implicit
        if training or testing:
            if has_datasets:
                raise ServiceError(
                    "InvalidParameterException",
                    f"The project {project.name} has datasets: train from them (without TrainingData, TestingData)",
                )
            if not (training and testing):
                raise ServiceError("InvalidParameterException", "TrainingData and TestingData must be given together")
            train = self._assets(training)
            if testing.get("AutoCreate"):
                moved = trained.split_for_test(entries_of(list(train.values())), seed=request["VersionName"])
                if moved is None:
                    return list(train.values()), [], ("testing", *trained.AUTOSPLIT)
                return (
                    [v for k, v in train.items() if k not in moved],
                    [v for k, v in train.items() if k in moved],
                    None,
                )
            return list(train.values()), list(self._assets(testing).values()), None
        if not all(datasets.values()):
            raise ServiceError(
                "InvalidParameterException",
                f"The project {project.name} needs a TRAIN and a TEST dataset (CreateDataset) to train a version",
            )
        for dataset in datasets.values():
            if dataset.status not in READY:
                raise ServiceError("ResourceInUseException", f"The dataset {dataset.arn} is {dataset.status}")
        return list(datasets["TRAIN"].entries.values()), list(datasets["TEST"].entries.values()), None

    def _assets(self, data: dict[str, Any]) -> dict[str, str]:
        """The JSON lines of the manifests of `Assets`, by source-ref."""
        lines: dict[str, str] = {}
        for asset in data.get("Assets") or []:
            text = self._read_manifest((asset.get("GroundTruthManifest") or {}).get("S3Object") or {})
            lines.update({ref: line for ref, (line, _) in manifest_lines(text, "manifest").items()})
        return lines

    def _data_result(self, job: TrainingJob, model: EmulatedModel, kind: str, lines: list[str]) -> dict[str, Any]:
        """TrainingDataResult / TestingDataResult: the snapshot of the lines used (Output) and its validation
        manifest (Validation; the emulator keeps no line with an error, so it holds the same lines)."""
        text = "".join(line + "\n" for line in lines)
        output = self._write(job, model, f"{kind}_manifest.json", text)
        validation = self._write(job, model, f"{kind}_manifest_with_validation.json", text)
        return {
            "Output": {"Assets": [{"GroundTruthManifest": {"S3Object": output}}]},
            "Validation": {"Assets": [{"GroundTruthManifest": {"S3Object": validation}}]},
        }

    def _write(self, job: TrainingJob, model: EmulatedModel, name: str, body: Any) -> dict[str, str]:
        """Write one output file under OutputConfig's prefix (`PREFIX` + `VERSION/` + name); its S3Object."""
        prefix = job.output.get("S3KeyPrefix", "")
        key = f"{prefix}{'' if not prefix or prefix.endswith('/') else '/'}{model.version_name}/{name}"
        data = body if isinstance(body, str) else json.dumps(body, indent=2)
        if self.settings.write_s3_object is not None:
            self.settings.write_s3_object(job.output["S3Bucket"], key, data.encode("utf-8"))
        return {"Bucket": job.output["S3Bucket"], "Name": key}


def entries_of(lines: list[str]) -> list[ManifestEntry]:
    return [parse_document(json.loads(line), number, "dataset") for number, line in enumerate(lines, start=1)]
