"""The whole pipeline on this machine: upload -> S3 notification -> SQS -> real handler -> emulated model -> result.

`LocalPipeline` starts moto's server, provisions it from the `PipelineConfig`, serves the Rekognition
emulator and starts the event source mapping; `upload_tree`, `wait` and `write_outputs` drive one run.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from customlabels.config import MANAGER_MAX_EVENT_AGE_SECONDS, PipelineConfig, is_miscased_image_name
from customlabels.local.aws import FAKE_CREDENTIALS, LOCAL_REGION, LocalResources, client, provision, start_moto
from customlabels.local.emulator.models import DetectionBackend
from customlabels.local.emulator.options import ModelOptions
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.local.emulator.server import serve
from customlabels.local.emulator.training import TrainingSettings
from customlabels.local.esm import EventSourceMapping
from customlabels.local.lambda_api import serve_mapping_api
from customlabels.local.lambda_runtime import INFERENCE_HANDLER, MANAGER_HANDLER, ONNX_INFERENCE_HANDLER
from customlabels.local.result_events import collect_events, event_account
from customlabels.local.scheduler import ScheduledFunction
from customlabels.local.stack_outputs import local_outputs, register_stack
from customlabels.operations import transfer
from customlabels.outputs import KeyFolder, NotSaved, input_files
from customlabels_runtime.contract import (  # the handler's own rules
    KEY_TOO_LONG,
    bytes_over_key_limit,
    error_code,
    is_input_image,
    result_key_for,
    result_status,
)

HAS_RESULT = ("labels", "nothing")
"""The outcomes, besides `error:<Code>`, of an image with a result JSON."""

REPO_ROOT = Path(__file__).resolve().parents[2]
LOCAL_MODEL_ARN = (
    "arn:aws:rekognition:us-east-1:123456789012:project/local-model/version/"
    "local-model.2026-11-22T10.00.00/1795341600000"
)


def load_config(**overrides: Any) -> PipelineConfig:
    """The deployed configuration (cdk.json's context) with a local model ARN (Custom Labels) and the overrides."""
    cdk_json = REPO_ROOT / "cdk.json"
    context = json.loads(cdk_json.read_text())["context"] if cdk_json.exists() else {}
    known = PipelineConfig.__dataclass_fields__
    values = {key: value for key, value in context.items() if key in known and value is not None}
    if overrides.get("backend") != "onnx":
        values["model_arn"] = LOCAL_MODEL_ARN
    values.update({key: value for key, value in overrides.items() if value is not None})
    return PipelineConfig.from_mapping(values)


class LocalPipeline:
    """Context manager running the emulated stack; `resources` names what was provisioned."""

    def __init__(
        self,
        config: PipelineConfig,
        backend: DetectionBackend | None = None,
        *,
        model: ModelOptions | None = None,
        visibility_timeout: int | None = None,
        log_path: Path | None = None,
        manager_interval: float = 1.0,
        idle_seconds: float | None = None,
        pollers: int | None = None,
        thresholds_max_age: int | None = None,
        version_max_age: int | None = None,
    ) -> None:
        """`pollers` overrides the event source's concurrency (the configuration allows 2 or more) to measure
        other sizings, such as the one-poller baseline of bench/; `thresholds_max_age` shortens the function's
        60 s cache of the thresholds parameter, so tests see a change at once; `version_max_age` that of the
        version in service (the ModelVersionDrainSeconds output stays the deployed figure, an upper bound)."""
        self.config = config
        self.region = config.region or LOCAL_REGION
        self.onnx = config.backend == "onnx"
        """The own model runs in the function itself: no emulator, no model manager, the event source always on."""
        self.rekognition_endpoint: str | None = None
        self.pollers = pollers or config.effective_max_concurrency
        self.thresholds_max_age = thresholds_max_age
        self.version_max_age = version_max_age
        self.manager_interval = manager_interval
        self.idle_seconds = idle_seconds
        self.backend = backend
        self.model_options = model or ModelOptions()
        self.visibility_timeout = visibility_timeout
        self.log_path = log_path or Path(tempfile.mkstemp(prefix="customlabels-lambda-", suffix=".log")[1])
        self.resources: LocalResources | None = None
        self.service: CustomLabelsService | None = None
        self.esm: EventSourceMapping | None = None
        self.manager: ScheduledFunction | None = None

    def __enter__(self) -> LocalPipeline:
        self._moto, endpoint = start_moto()
        try:
            self.resources = provision(self.config, endpoint, visibility_timeout=self.visibility_timeout)
            account = client("sts", endpoint, self.region).get_caller_identity()["Account"]
            outputs = local_outputs(self.config, self.resources, account)
            register_stack(client("cloudformation", endpoint, self.region), outputs)  # --stack works locally
            self.s3 = client("s3", endpoint, self.region)
            self.sqs = client("sqs", endpoint, self.region)
            if not self.onnx:
                self._start_emulator()
            self._start_event_source()
            if not self.onnx:
                self._start_manager()
        except BaseException:
            self.__exit__()
            raise
        return self

    def _start_emulator(self) -> None:
        """The Rekognition emulator holding the configuration's model, as the options describe it, on its port."""
        options = self.model_options
        self.service = CustomLabelsService(
            read_s3_object=self._read_object,
            start_delay=options.start_delay,
            tps_per_inference_unit=options.tps_per_inference_unit,
            scale_up_after=options.scale_up_after,
            scale_down_after=options.scale_down_after,
            latency=options.latency,
            faults=options.faults,
            fault_plan=options.fault_plan,
            seed=options.seed,
            training=TrainingSettings(
                delay=options.training_delay, write_s3_object=self._write_object, noise=options.noise, seed=options.seed
            ),
        )
        running = self.config.model_lifecycle == "manual" if options.running is None else options.running
        model = self.service.add_model(
            self.config.model_arn,
            backend=self.backend,
            running=running,
            inference_units=options.inference_units,
            max_inference_units=options.max_inference_units,
            assumed_thresholds=options.assumed_thresholds,
        )
        self._write_evaluation_summary(model)
        self._emulator = serve(self.service)
        self.rekognition_endpoint = f"http://127.0.0.1:{self._emulator.server_address[1]}"

    def _start_event_source(self) -> None:
        """The inference function's pollers, and the Lambda API that enables and disables them. They start disabled:
        the model manager enables them once the model is RUNNING, as deployed (onnx: enabled, no manager)."""
        self.esm = EventSourceMapping(
            environment=self.function_environment(),
            queue_url=self.resources.queue_url,
            queue_arn=self.resources.queue_arn,
            region=self.region,
            batch_size=self.config.batch_size,
            max_concurrency=self.pollers,
            memory_mb=self.config.effective_function_memory_mb,
            timeout_seconds=self.config.function_timeout_seconds,
            log_path=self.log_path,
            enabled=self.onnx,
            handler=ONNX_INFERENCE_HANDLER if self.onnx else INFERENCE_HANDLER,
        ).start()
        self._lambda_api = serve_mapping_api(self.esm)
        self.lambda_endpoint = f"http://127.0.0.1:{self._lambda_api.server_address[1]}"

    def _start_manager(self) -> None:
        """The model manager, run on its schedule and by the upload rule's events."""
        self.manager = ScheduledFunction(
            MANAGER_HANDLER,
            environment=self.manager_environment(),
            log_path=self.log_path,
            interval=self.manager_interval,
            invocations_url=self.resources.manager_invocations_url,
            max_event_age=MANAGER_MAX_EVENT_AGE_SECONDS,
        ).start()

    def __exit__(self, *_exc: object) -> None:
        if self.manager:
            self.manager.stop()
        if self.esm:
            self.esm.stop()
        for server in ("_lambda_api", "_emulator"):
            if hasattr(self, server):
                getattr(self, server).shutdown()
        self._moto.stop()

    def _read_object(self, bucket: str, key: str, version: str | None) -> bytes:
        extra = {"VersionId": version} if version else {}
        return self.s3.get_object(Bucket=bucket, Key=key, **extra)["Body"].read()

    def _write_object(self, bucket: str, key: str, body: bytes) -> None:
        """How the emulator's training writes its output: to the local S3 (OSError when it refuses)."""
        try:
            self.s3.put_object(Bucket=bucket, Key=key, Body=body)
        except self.s3.exceptions.ClientError as error:
            raise OSError(str(error)) from None

    def _write_evaluation_summary(self, model) -> None:
        """Leave the model's evaluation summary in a training-output bucket of its own, as training does, for
        `thresholds import-assumed`."""
        labels = sorted(set(self.model_options.assumed_thresholds) | set(getattr(self.backend, "label_names", [])))
        if not labels:
            return
        bucket = f"{self.resources.bucket}-training-output"
        self.s3.create_bucket(
            Bucket=bucket,
            **(
                {} if self.region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": self.region}}
            ),
        )
        key = f"evaluation/EvaluationSummary-{model.arn.split('/')[1]}-{model.arn.split('/')[3]}.json"
        self.s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(model.evaluation_summary_document(labels)).encode())
        model.evaluation_summary = (bucket, key)

    def client_environment(self) -> dict[str, str]:
        """What a program on this machine needs to reach the emulated stack (the AWS CLI, boto3, the functions):
        the endpoints, the credentials and the region."""
        return {
            "AWS_ENDPOINT_URL_S3": self.resources.endpoint,
            "AWS_ENDPOINT_URL_SQS": self.resources.endpoint,
            **({"AWS_ENDPOINT_URL_REKOGNITION": self.rekognition_endpoint} if self.rekognition_endpoint else {}),
            "AWS_ENDPOINT_URL_SSM": self.resources.endpoint,
            "AWS_ENDPOINT_URL_EVENTBRIDGE": self.resources.endpoint,
            "AWS_ENDPOINT_URL_CLOUDFORMATION": self.resources.endpoint,
            "AWS_ACCESS_KEY_ID": FAKE_CREDENTIALS["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": FAKE_CREDENTIALS["aws_secret_access_key"],
            "AWS_DEFAULT_REGION": self.region,
        }

    def function_environment(self) -> dict[str, str]:
        """What the handler's environment holds here: the deployed variables plus the local endpoints."""
        return {
            **self.config.function_environment(),
            # The own model from where it is on this machine, which the stack bundles into the asset.
            **({"ONNX_MODEL": str(Path(self.config.onnx_model).expanduser().resolve())} if self.onnx else {}),
            **self._lambda_aws_environment(),
            "THRESHOLDS_PARAMETER": self.resources.thresholds_parameter,
            **({} if self.thresholds_max_age is None else {"THRESHOLDS_MAX_AGE_SECONDS": str(self.thresholds_max_age)}),
            **self._version_environment(),
        }

    def manager_environment(self) -> dict[str, str]:
        """The model manager's environment: the stack's variables plus the local endpoints."""
        environment = {
            **self.config.manager_environment(),
            **self._lambda_aws_environment(),
            "QUEUE_URL": self.resources.queue_url,
            "MAPPING_UUID": self.esm.uuid,
            "STATE_PARAMETER": self.resources.state_parameter,
            "MODEL_VERSION_PARAMETER": self.resources.model_version_parameter,
            "AWS_ENDPOINT_URL_LAMBDA": self.lambda_endpoint,
            "MANAGER_INTERVAL_SECONDS": str(self.manager_interval),  # the latency budget plans with the real one
        }
        if self.idle_seconds is not None:
            environment["IDLE_SECONDS"] = str(self.idle_seconds)
        return environment

    def _version_environment(self) -> dict[str, str]:
        """The version in service, as the stack adds it (onnx: none); `version_max_age` shortens its cache."""
        if self.onnx:
            return {}
        ages = {} if self.version_max_age is None else {"MODEL_VERSION_MAX_AGE_SECONDS": str(self.version_max_age)}
        return {"MODEL_VERSION_PARAMETER": self.resources.model_version_parameter, **ages}

    def _lambda_aws_environment(self) -> dict[str, str]:
        """The client environment, plus `AWS_REGION`, which Lambda sets for every function."""
        return {**self.client_environment(), "AWS_REGION": self.region}

    # --- driving it ---------------------------------------------------------------------------------------

    def key_for(self, relative_path: str) -> str:
        return self.config.input_prefix + relative_path

    def result_key_for(self, key: str) -> str:
        return result_key_for(key, self.config.input_prefix, self.config.effective_results_prefix)

    def upload(self, key: str, body: bytes) -> dict[str, Any]:
        return self.s3.put_object(Bucket=self.resources.bucket, Key=key, Body=body)

    def result(self, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.resources.bucket, Key=self.result_key_for(key))["Body"].read()
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(body)

    def collect_result_events(self, result_keys: set[str], timeout: float = 30.0) -> list[dict[str, Any]]:
        """The result events the watch rule delivered (customlabels.local.result_events), waiting until each of
        `result_keys` has one; none with result_events=off."""
        watch = self.resources.result_events
        return [] if watch is None else collect_events(self.sqs, watch.queue_url, result_keys, timeout)

    def dead_letter_keys(self) -> set[str]:
        return transfer.dead_letter_keys(self.sqs, self.resources.dead_letter_queue_url)

    def result_keys(self) -> set[str]:
        return set(transfer.list_keys(self.s3, self.resources.bucket, self.config.effective_results_prefix))

    def outcome(self, key: str, dead_letters: set[str], results: set[str] | None = None) -> str | None:
        """`labels`, `nothing` (a result without labels), `error:<Code>` (the words of `customlabels results` and of
        the event's Outcome: `result_status`, with the error's code), `dead-letter`, `not-picked-up` (named like an
        image, but with a suffix in mixed case: the notifications never send it), `not-an-image`, or None while
        still pending; `error:KeyTooLongError` at once for an image whose key or result key S3 cannot
        store (S3 refused it, or the function skips it: it can never have a result)."""
        if not is_input_image(key, self.config.input_prefix, self.config.effective_results_prefix):
            return "not-picked-up" if is_miscased_image_name(key) else "not-an-image"
        if bytes_over_key_limit(key) or bytes_over_key_limit(self.result_key_for(key)):
            return f"error:{KEY_TOO_LONG}"
        result = self.result(key) if results is None or self.result_key_for(key) in results else None
        if result is not None:
            status = result_status(result)
            return f"error:{result['Error']['Code']}" if status == "error" else status
        return "dead-letter" if key in dead_letters else None

    def wait(
        self, keys: list[str], timeout: float, on_progress: Callable[[int], None] | None = None, poll: float = 0.2
    ) -> dict[str, str]:
        """Outcome of every key; those still pending at `timeout` are `timeout`. Each poll lists the results
        and peeks the DLQ: poll less often when measuring throughput, so watching does not slow the stack."""
        outcomes: dict[str, str] = {}
        deadline = time.monotonic() + timeout
        while True:
            outcomes.update(self.outcomes_now([key for key in keys if key not in outcomes]))
            if on_progress:
                on_progress(len(outcomes))
            if len(outcomes) == len(keys) or time.monotonic() > deadline:
                break
            time.sleep(poll)
        return {key: outcomes.get(key, "timeout") for key in keys}

    def outcomes_now(self, keys: list[str]) -> dict[str, str]:
        """The outcome of each of `keys` that has one, from one listing of the results and one peek at the DLQ."""
        dead_letters, results = self.dead_letter_keys(), self.result_keys()
        found = {key: self.outcome(key, dead_letters, results) for key in keys}
        return {key: outcome for key, outcome in found.items() if outcome is not None}

    def interrupted(self, keys: list[str]) -> dict[str, str]:
        """After Ctrl-C: the outcome of each key that has one now, `interrupted` for the others."""
        done = self.outcomes_now(keys)
        return {key: done.get(key, "interrupted") for key in keys}


def _write_result_events(pipeline: LocalPipeline, result_keys: set[str], out_dir: Path) -> dict[str, Any] | str:
    """events.jsonl, each event as delivered, and summary.json's account of them (event_account); `off`, and no
    events.jsonl (not one left from an earlier run either), with result_events=off."""
    events_file = out_dir / "events.jsonl"
    watch = pipeline.resources.result_events
    if watch is None:
        events_file.unlink(missing_ok=True)
        return "off"  # the setting's own word
    events = pipeline.collect_result_events(result_keys)
    events_file.write_text("".join(json.dumps(event, ensure_ascii=False) + "\n" for event in events), "utf-8")
    return {"bus": watch.bus, **event_account(events, result_keys)}


def upload_tree(
    pipeline: LocalPipeline,
    images_dir: Path,
    on_upload: Callable[[str], None] | None = None,
    include_outputs: bool = False,
) -> list[str]:
    """Every file below `images_dir`, its relative path kept under the input prefix, but the pictures customlabels
    drew (unless `include_outputs`), as `upload` leaves them out."""
    keys = []
    for path in input_files(images_dir, include_outputs)[0]:
        key = pipeline.key_for(path.relative_to(images_dir).as_posix())
        try:
            pipeline.upload(key, path.read_bytes())
        except ClientError as error:
            if error_code(error) != KEY_TOO_LONG:
                raise  # S3 refuses a key over its limit: its outcome says so, and the others go on
        keys.append(key)
        if on_upload:
            on_upload(key)
    return keys


def write_outputs(
    pipeline: LocalPipeline,
    outcomes: dict[str, str],
    out_dir: Path,
    interrupted: bool = False,
    on_not_saved: Callable[[NotSaved], None] | None = None,
) -> dict[str, dict]:
    """Result JSONs under `out_dir` by key (customlabels.outputs; a key the file system cannot hold goes to
    `on_not_saved`, the others are all written), `summary.json` (`interrupted`: the run was stopped by Ctrl-C,
    and the images without an outcome then are `interrupted`) and `events.jsonl`, the result events delivered."""
    results = {}
    folder = KeyFolder(out_dir, on_not_saved)
    for key, outcome in outcomes.items():
        if (outcome in HAS_RESULT or outcome.startswith("error:")) and (result := pipeline.result(key)) is not None:
            results[key] = result
            transfer.save_result(folder, pipeline.result_key_for(key), result)
    counts: dict[str, int] = {}
    for outcome in outcomes.values():
        counts[outcome] = counts.get(outcome, 0) + 1
    summary = {
        "images": [
            {"key": key, "outcome": outcome, "result": pipeline.result_key_for(key) if key in results else None}
            for key, outcome in outcomes.items()
        ],
        "counts": counts,
        "interrupted": interrupted,
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    summary["result_events"] = _write_result_events(
        pipeline, {pipeline.result_key_for(key) for key in results}, out_dir
    )
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False), encoding="utf-8")
    return results
