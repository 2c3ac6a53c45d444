"""The one typed configuration of the pipeline.

The CDK stack, the inference function's environment and the local emulator are all built from a
`PipelineConfig`, so what runs locally and what is deployed cannot drift apart. Values come from CDK
context (`cdk.json` defaults, `-c key=value` overrides) and are validated once, with errors that name
the key and the fix.
"""

from __future__ import annotations

import difflib
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from typing import Any

from customlabels import own_model
from customlabels.config_checks import check_range as _check_range
from customlabels.config_conversion import convert
from customlabels.config_model_manager import model_manager_problems
from customlabels.result_events_settings import result_event_bus, result_events_environment, result_events_problems
from customlabels_runtime import contract


def is_miscased_image_name(name: str) -> bool:
    """Named like an image but with a suffix in mixed case (`bee.Jpg`): S3's suffix filters are case-sensitive, so
    the pipeline never picks it up (`image_name_problem` says the fix)."""
    return not contract.is_image_key(name) and name.lower().endswith(contract.IMAGE_SUFFIXES)


def image_name_problem(name: str) -> str | None:
    """Why a file name is not one the pipeline picks up, and the fix; None when it is."""
    if contract.is_image_key(name):
        return None
    stem, dot, suffix = name.rpartition(".")
    if dot and f".{suffix.lower()}" in contract.IMAGE_SUFFIXES:
        return (
            f"its suffix .{suffix} mixes cases, and the pipeline picks up only "
            f"{', '.join(contract.IMAGE_SUFFIXES)} (S3's notification filters are case-sensitive): "
            f"rename it to {stem}.{suffix.lower()}"
        )
    return f"the pipeline only picks up names ending {', '.join(contract.IMAGE_SUFFIXES)}: rename it"


MODEL_ARN_PATTERN = re.compile(
    r"^arn:aws[a-z-]*:rekognition:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"project/(?P<project>[a-zA-Z0-9_.\-]{1,255})/version/(?P<version>[a-zA-Z0-9_.\-]{1,255})/\d{13}$"
)
MODEL_ARN_EXAMPLE = (
    "arn:aws:rekognition:eu-west-1:123456789012:project/bees/version/bees.2021-03-11T15.05.33/1615479933000"
)

# The values CloudWatch Logs accepts for a log group's retention.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365)  # up to a year, then the longer ones
LOG_RETENTION_DAYS += (400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
REMOVAL_POLICIES = ("retain", "destroy")
INITIAL_MANAGER_STATE = "{}"
"""The model manager's state parameter before its first run (it records the last activity there)."""
QUEUE_RETENTION_DAYS = 4
DLQ_RETENTION_DAYS = 14
"""SQS keeps a message's original enqueue time when it moves to the DLQ: the DLQ keeps it 10+ more days."""
TPS_PER_INFERENCE_UNIT = 5
"""A typical figure of DetectCustomLabels calls per second per inference unit, for cost estimates and the
simulations only: the function does not pace to it, it finds the model's real capacity (docs/reliability.md)."""
SIZING_CALLS_PER_UNIT = 10
"""An upper bound (twice the typical figure) of one unit's calls per second, to size the pollers: a faster model
is still kept busy, by each environment's throughput control raising its rate up to its pool of batch_size."""
SIZING_LATENCY_SECONDS = 0.5
VISIBILITY_TIMEOUT_FACTOR = 6
"""AWS guidance: an SQS event source's visibility timeout should be at least 6x the function timeout."""
MANAGER_RESERVED_CONCURRENCY = 1
"""One model manager decision at a time: no two runs starting the model at once."""
DEFAULT_ON_DEMAND_MODEL_HOURS_PER_DAY = 12
MANAGER_ONLY_KEYS = ("max_model_hours_per_day", "max_wait_minutes")
"""Settings (unset by default) that only the model manager keeps to, so none of them does anything with onnx."""
"""The spend guard's default budget on demand: a flood can make the on-demand model cost at most half of
always-on (docs/model-lifecycle.md argues it); `always-on` defaults to 24 (no cap), `manual` has none."""
MANAGER_MAX_EVENT_AGE_SECONDS = 60
"""Lambda's minimum: an upload event the manager cannot take within a minute is dropped (with 0 retries), not
queued for hours behind its reserved concurrency; the schedule runs the manager every interval anyway."""
MODEL_VERSION_MAX_AGE_SECONDS, VERSION_DRAIN_MARGIN_SECONDS = 60, 30
"""The function's cache of the version in service, and a margin (start-up, clocks): docs/model-lifecycle.md."""


def wildcard_literal(text: str) -> str:
    """`text` as a literal inside an EventBridge `wildcard` pattern (`*` and `\\` are escaped)."""
    return text.replace("\\", "\\\\").replace("*", "\\*")


class ConfigError(ValueError):
    """Raised with every problem found in the configuration, each naming the key and the fix."""


@dataclass(frozen=True)
class PipelineConfig:
    """Every setting of the pipeline; see the README's configuration table for what each one does."""

    model_arn: str = ""
    min_confidence: float | None = None
    input_prefix: str = "test_images/"
    results_prefix: str | None = None
    batch_size: int = 10
    max_concurrency: int | None = None
    max_receive_count: int = 5
    log_retention_days: int = 30
    removal_policy: str = "retain"
    function_timeout_seconds: int = 60
    function_memory_mb: int | None = None
    model_lifecycle: str = "on-demand"
    idle_minutes: int = 30
    min_inference_units: int = 1
    max_inference_units: int = 1
    manager_interval_minutes: int = 1
    max_message_age_minutes: int = 60
    alarm_email: str | None = None
    max_model_hours_per_day: int | None = None
    max_wait_minutes: int | None = None
    backend: str = "custom-labels"
    onnx_model: str | None = None
    onnx_model_key_arn: str | None = None
    result_events: str = "default"
    """The event bus each result is announced on (`default`, a bus name) or `off` (result_events_settings.py)."""

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError("Invalid pipeline configuration:\n  - " + "\n  - ".join(problems))

    @classmethod
    def from_context(cls, get: Callable[[str], Any]) -> PipelineConfig:
        """Build from CDK context: `get` is `node.try_get_context`; strings from `-c` are converted."""
        raw = {f.name: get(f.name) for f in fields(cls)}
        if raw["model_arn"] in (None, "") and raw["backend"] in (None, "", "custom-labels"):
            raise ConfigError(
                "Invalid pipeline configuration:\n  - model_arn is required to synthesize a deployable stack. "
                f"Fix: pass -c model_arn=<project version ARN>, for example -c model_arn={MODEL_ARN_EXAMPLE}"
                + (", or -c backend=onnx to run onnx_model" if raw["onnx_model"] else "")
            )
        return cls.from_mapping({k: v for k, v in raw.items() if v is not None})

    @classmethod
    def unknown_context_keys(cls, keys: list[str] | set[str], also_known: set[str] = frozenset()) -> list[str]:
        """Problems for context keys that look like ours (snake_case) but are not: `-c min_confidance=90`
        would otherwise be ignored without a word. CDK's own keys (`@aws-cdk/...`, `aws:cdk:...`) are left alone."""
        known = {f.name for f in fields(cls)} | set(also_known)
        problems = []
        for key in sorted(keys):
            if re.fullmatch(r"[a-z][a-z0-9_]*", key) and key not in known:
                close = difflib.get_close_matches(key, sorted(known), n=1)
                problems.append(
                    f"unknown key {key}. Fix: "
                    + (f"did you mean {close[0]}?" if close else f"use one of {', '.join(sorted(known))}")
                )
        return problems

    def warnings(self) -> list[str]:
        """Settings that are valid but probably not meant."""
        if self.backend == "onnx" and self.model_arn:
            return ["model_arn is set but backend=onnx does not use it: the function runs onnx_model"]
        if self.backend == "onnx" and (unused := [key for key in MANAGER_ONLY_KEYS if getattr(self, key) is not None]):
            return [
                f"{', '.join(unused)} set, but backend=onnx has no model manager to keep to it (the own model runs "
                "in the function, billed per image): it does nothing"
            ]
        if self.min_confidence is not None and 0 < self.min_confidence < 1:
            return [
                f"min_confidence={self.min_confidence:g} is a percent (0-100), so this keeps labels at "
                f"{self.min_confidence:g}% confidence and above; did you mean {self.min_confidence * 100:g}?"
            ]
        return []

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> PipelineConfig:
        """Build from plain values (JSON types or the strings `-c key=value` gives)."""
        known = {f.name: f for f in fields(cls)}
        unknown = sorted(set(values) - set(known))
        if unknown:
            raise ConfigError(
                f"Invalid pipeline configuration:\n  - unknown key(s) {', '.join(unknown)}. "
                f"Fix: use one of {', '.join(known)}"
            )
        problems: list[str] = []
        converted: dict[str, Any] = {}
        for name, value in values.items():
            try:
                converted[name] = convert(name, value)
            except ValueError as error:
                problems.append(str(error))
        if problems:
            raise ConfigError("Invalid pipeline configuration:\n  - " + "\n  - ".join(problems))
        return cls(**converted)

    @property
    def effective_results_prefix(self) -> str:
        """Where results go: by default beside the images (`a/b.jpg` -> `a/b.jpg.json`)."""
        return self.input_prefix if self.results_prefix is None else self.results_prefix

    @property
    def result_key_wildcard(self) -> str:
        """Every result's key as an S3 object ARN's wildcard (IAM, bucket policies): `<results prefix>*.json`."""
        return f"{self.effective_results_prefix}*{contract.RESULT_SUFFIX}"

    @property
    def image_key_wildcards(self) -> list[str]:
        """Every image the pipeline picks up as S3 object ARN wildcards, one per suffix: `<input prefix>*.jpg`..."""
        return [f"{self.input_prefix}*{suffix}" for suffix in contract.IMAGE_SUFFIXES]

    @property
    def result_event_bus(self) -> str | None:
        """The bus each result is announced on; None with result_events=off."""
        return result_event_bus(self.result_events)

    @property
    def region(self) -> str | None:
        """The model's region: Rekognition reads images only from a bucket in its own region (onnx: None)."""
        return MODEL_ARN_PATTERN.match(self.model_arn)["region"] if self.backend == "custom-labels" else None

    @property
    def account(self) -> str | None:
        return MODEL_ARN_PATTERN.match(self.model_arn)["account"] if self.backend == "custom-labels" else None

    @property
    def project_versions_arn(self) -> str:
        """Every version of the model's project (`arn:<partition>:rekognition:<region>:<account>:project/<name>/*`,
        the model's own partition), what DescribeProjectVersions is granted on: the project's ARN ends in its
        creation timestamp, which the model version ARN does not contain."""
        project = MODEL_ARN_PATTERN.match(self.model_arn)["project"]
        return f"{self.model_arn.split(':project/')[0]}:project/{project}/*"

    @property
    def project_version_arns(self) -> str:
        """`arn:...:project/<name>/version/*`: what the function calls, the manager and `promote` start and stop."""
        return self.project_versions_arn.removesuffix("*") + "version/*"

    @property
    def version_drain_seconds(self) -> int:
        """The wait between a switch and stopping the old version: the function's cache, its timeout, a margin."""
        return MODEL_VERSION_MAX_AGE_SECONDS + self.function_timeout_seconds + VERSION_DRAIN_MARGIN_SECONDS

    @property
    def effective_max_concurrency(self) -> int:
        """`max_concurrency`, or by default just enough concurrent invocations to keep the model busy.

        Little's law: calls in flight = throughput x latency. Up to SIZING_CALLS_PER_UNIT calls/s per inference
        unit at max_inference_units, with a latency of up to 0.5 s, need that many calls in flight; each invocation
        has batch_size of them (the in-batch pool). Lambda's minimum is 2. The rate of each environment is found
        at runtime (`ThroughputControl`), so this is only how many pollers, never a pace: fewer pollers each
        adapt to a larger share, and more would only sit idle or share the same capacity (docs/reliability.md).
        """
        if self.max_concurrency is not None:
            return self.max_concurrency
        if self.backend == "onnx":
            return own_model.ONNX_DEFAULT_MAX_CONCURRENCY
        in_flight = SIZING_CALLS_PER_UNIT * self.max_inference_units * SIZING_LATENCY_SECONDS
        return max(2, math.ceil(in_flight / self.batch_size))

    @property
    def effective_max_model_hours_per_day(self) -> int | None:
        """The spend guard's budget of model running hours per UTC day, None where there is none: `manual` (the
        manager never starts or stops the model) and 24 (a day has no more hours). By default 12 on demand, none
        always-on."""
        if self.model_lifecycle == "manual":
            return None
        hours = self.max_model_hours_per_day
        if hours is None:
            hours = DEFAULT_ON_DEMAND_MODEL_HOURS_PER_DAY if self.model_lifecycle == "on-demand" else 24
        return None if hours >= 24 else hours

    @property
    def oldest_image_alarm_minutes(self) -> int:
        """The oldest-image alarm's threshold: with a latency budget, images may wait that long (plus the two
        intervals of the manager's margin) by design, so it alarms only past the budget."""
        budget = self.max_wait_minutes + 2 * self.manager_interval_minutes if self.max_wait_minutes else 0
        return max(self.max_message_age_minutes, budget)

    @property
    def effective_function_memory_mb(self) -> int:
        """`function_memory_mb`, or 512 MB (Custom Labels: the function waits) or ONNX_DEFAULT_MEMORY_MB (onnx)."""
        if self.function_memory_mb is not None:
            return self.function_memory_mb
        return own_model.ONNX_DEFAULT_MEMORY_MB if self.backend == "onnx" else 512

    @property
    def visibility_timeout_seconds(self) -> int:
        return VISIBILITY_TIMEOUT_FACTOR * self.function_timeout_seconds

    def image_key_patterns(self) -> list[dict[str, str]]:
        """EventBridge matchers for exactly the keys the bucket notifications send to the queue: under the
        input prefix and ending in one of `contract.IMAGE_SUFFIXES` (case-sensitive, like S3's suffix filters)."""
        prefix = wildcard_literal(self.input_prefix)
        return [{"wildcard": f"{prefix}*{wildcard_literal(suffix)}"} for suffix in contract.IMAGE_SUFFIXES]

    def upload_event_pattern(self, bucket_name: str) -> dict[str, Any]:
        """The EventBridge pattern of the rule that invokes the model manager: an image created in the bucket.
        The stack deploys it and the local stack evaluates it, so both wake the manager for the same objects."""
        return {
            "source": ["aws.s3"],
            "detail-type": ["Object Created"],
            "detail": {"bucket": {"name": [bucket_name]}, "object": {"key": self.image_key_patterns()}},
        }

    def manager_environment(self) -> dict[str, str]:
        """The model manager's environment (queue, mapping and state names are added by the stack). INPUT_PREFIX:
        the manager applies the pipeline's image rule to what waits in the queue (docs/model-lifecycle.md);
        RESULTS_PREFIX: an image under the results location is not one to infer, for the manager as for the function."""
        return {
            "MODEL_ARN": self.model_arn,
            "INPUT_PREFIX": self.input_prefix,
            "RESULTS_PREFIX": self.effective_results_prefix,
            "MODEL_LIFECYCLE": self.model_lifecycle,
            "IDLE_SECONDS": str(self.idle_minutes * 60),
            "MIN_INFERENCE_UNITS": str(self.min_inference_units),
            "MAX_INFERENCE_UNITS": str(self.max_inference_units),
            "MAX_RUNNING_SECONDS_PER_DAY": str((self.effective_max_model_hours_per_day or 0) * 3600),
            "MAX_WAIT_SECONDS": str((self.max_wait_minutes or 0) * 60),
            "MANAGER_INTERVAL_SECONDS": str(self.manager_interval_minutes * 60),
            "VERSION_DRAIN_SECONDS": str(self.version_drain_seconds),
            "POWERTOOLS_SERVICE_NAME": contract.MANAGER_SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": contract.METRICS_NAMESPACE,
        }

    def initial_thresholds_document(self) -> str:
        """The thresholds parameter's value at deploy: the global `min_confidence`, no per-label thresholds
        (docs/thresholds.md); `customlabels thresholds set` changes it at runtime."""
        return json.dumps({"min_confidence": self.min_confidence, "labels": {}})

    def function_environment(self) -> dict[str, str]:
        """The inference function's environment variables; the local runner sets the same ones (onnx: ONNX_MODEL)."""
        onnx = self.backend == "onnx"
        return {
            **(
                {"ONNX_MODEL": own_model.function_location(self.onnx_model)}
                if onnx
                else self._custom_labels_environment()
            ),
            "MIN_CONFIDENCE": "" if self.min_confidence is None else repr(float(self.min_confidence)),
            "INPUT_PREFIX": self.input_prefix,
            "RESULTS_PREFIX": self.effective_results_prefix,
            "BATCH_WORKERS": str(self.batch_size),
            **result_events_environment(self.result_events),
            "POWERTOOLS_SERVICE_NAME": contract.INFERENCE_SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": contract.METRICS_NAMESPACE,
        }

    def _custom_labels_environment(self) -> dict[str, str]:
        """What only a Custom Labels function reads: the model, its cached version in service, its units (for the
        throughput control's view of auto-scaling); the onnx backend has none of them."""
        return {
            "MODEL_ARN": self.model_arn,
            "MODEL_VERSION_MAX_AGE_SECONDS": str(MODEL_VERSION_MAX_AGE_SECONDS),
            "MIN_INFERENCE_UNITS": str(self.min_inference_units),
            "MAX_INFERENCE_UNITS": str(self.max_inference_units),
        }


def _check_prefix(name: str, prefix: Any) -> list[str]:
    if not isinstance(prefix, str) or not prefix or prefix.startswith("/") or not prefix.endswith("/"):
        return [
            f"{name}={prefix!r} must be a key prefix like 'test_images/': not empty, no leading '/', "
            f"ending in '/'. Fix: -c {name}=test_images/"
        ]
    return []


def _problems(config: PipelineConfig) -> list[str]:
    """Every problem of `config`, each naming the key and the fix: one check per concern."""
    return [
        *_model_problems(config),
        *_location_problems(config),
        *_processing_problems(config),
        *model_manager_problems(config),
        *_operations_problems(config),
        *result_events_problems(config.result_events),
    ]


def _model_problems(config: PipelineConfig) -> list[str]:
    """The model and what DetectCustomLabels is asked for."""
    problems = own_model.backend_problems(config.backend, config.onnx_model, config.onnx_model_key_arn)
    if config.backend != "onnx" and (
        not isinstance(config.model_arn, str) or not MODEL_ARN_PATTERN.match(config.model_arn)
    ):
        problems.append(
            f"model_arn={config.model_arn!r} is not a Rekognition Custom Labels project version ARN. "
            f"Fix: copy the model version ARN from the console or `aws rekognition describe-project-versions`, "
            f"shaped like {MODEL_ARN_EXAMPLE}"
        )
    if config.min_confidence is not None and (
        isinstance(config.min_confidence, bool)
        or not isinstance(config.min_confidence, (int, float))
        or not 0 <= config.min_confidence <= 100
    ):
        problems.append(
            f"min_confidence={config.min_confidence!r} is out of range: DetectCustomLabels accepts 0-100. "
            "Fix: -c min_confidence=<0-100>, or leave it unset to use the model's assumed thresholds"
        )
    return problems


def _location_problems(config: PipelineConfig) -> list[str]:
    """Where images are picked up and results written."""
    problems = _check_prefix("input_prefix", config.input_prefix)
    if config.results_prefix is not None:
        problems += _check_prefix("results_prefix", config.results_prefix)
    return problems


def _processing_problems(config: PipelineConfig) -> list[str]:
    """The queue, its event source and the inference function."""
    problems = _check_range(config, "batch_size", 1, 10, "an SQS event source without a batching window")
    if config.max_concurrency is not None:
        problems += _check_range(config, "max_concurrency", 2, 1000, "the SQS event source's maximum concurrency")
    problems += _check_range(config, "max_receive_count", 1, 1000, "an SQS redrive policy")
    problems += _check_range(config, "function_timeout_seconds", 10, 900, "Lambda (with 6x for the queue)")
    if config.function_memory_mb is not None:
        problems += _check_range(config, "function_memory_mb", 128, 10240, "Lambda")
    return problems


def _operations_problems(config: PipelineConfig) -> list[str]:
    """Logs, alarms and what happens to the data when the stack is deleted."""
    problems = []
    if config.log_retention_days not in LOG_RETENTION_DAYS:
        problems.append(
            f"log_retention_days={config.log_retention_days!r} is not a CloudWatch Logs retention. "
            f"Fix: -c log_retention_days=<one of {', '.join(map(str, LOG_RETENTION_DAYS))}>"
        )
    problems += _check_range(config, "max_message_age_minutes", 1, 1440, "the oldest-image alarm")
    if config.alarm_email is not None and (
        not isinstance(config.alarm_email, str) or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", config.alarm_email)
    ):
        problems.append(
            f"alarm_email={config.alarm_email!r} is not an e-mail address. Fix: -c "
            "alarm_email=ops@example.com (SNS sends a confirmation mail first), or leave it unset"
        )
    if config.removal_policy not in REMOVAL_POLICIES:
        problems.append(
            f"removal_policy={config.removal_policy!r} is unknown. Fix: -c removal_policy=retain (keep data "
            "when the stack is deleted, the default) or -c removal_policy=destroy (development stacks)"
        )
    return problems
