"""The version in service, read at runtime (customlabels_runtime/model_version.py, docs/model-lifecycle.md, "The
version in service"): which model version each image's DetectCustomLabels call and its result name, so that
`customlabels model promote` switches the pipeline without a redeploy.

Each image reads it once (`Dependencies.image_settings`), so its call and its result's `ProjectVersionArn` name the
same version. A new version has its own capacity: the throughput control learned for one version is not the other's,
so each version gets a control of its own (`throughput_for`), and a switch starts the new one's discovery afresh
while images in flight on the old one keep their control.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import replace
from typing import TypeVar

from customlabels_runtime.inference.runtime_parameter import RuntimeParameter
from customlabels_runtime.inference.throughput import ThroughputControl
from customlabels_runtime.model_version import parse_version_document, project_of

SettingsT = TypeVar("SettingsT")

KEPT_CONTROLS = 2
"""Throughput controls kept per environment: the version in service and the one it replaced (still answering images
in flight during the drain); an older one is dropped and learns afresh should it come back."""


class ModelVersionError(ValueError):
    """A version document the function cannot use; the message names the problem and the fix."""


class ModelVersionSource(RuntimeParameter[str]):
    """The version in service from the SSM parameter, cached up to `max_age` seconds by Powertools Parameters,
    falling back to the deploy-time MODEL_ARN; an unreadable parameter or a document that is not a version of the
    pipeline's project keeps the last good version (logged and counted once: ModelVersionRejected)."""

    unreadable_code = "ModelVersionUnreadable"
    invalid_code = "ModelVersionInvalid"

    def __init__(
        self,
        parameter_name: str | None,
        get_parameter: Callable[..., str],
        deploy_time_arn: str,
        on_invalid: Callable[[str, str], None],
        max_age: int = 60,
        new_control: Callable[[], ThroughputControl] = ThroughputControl,
    ) -> None:
        super().__init__(parameter_name, get_parameter, deploy_time_arn, on_invalid, max_age)
        self.project = project_of(deploy_time_arn)
        self._new_control = new_control
        self._controls: dict[str, ThroughputControl] = {}
        self._controls_lock = threading.Lock()

    def parse(self, value: str) -> str:
        document = parse_version_document(value)
        if document is None:
            raise ModelVersionError(
                "not a version document. Fix: `customlabels model promote VERSION_ARN` writes it; by hand, "
                '{"version_arn": "<a version ARN of the project>"}'
            )
        if project_of(document.version_arn) != self.project:
            raise ModelVersionError(
                f"version_arn {document.version_arn!r} is not a version of the pipeline's project ({self.project}), "
                "which is all the function may call. Fix: promote a version of that project"
            )
        return document.version_arn

    def throughput_for(self, version_arn: str, first: ThroughputControl) -> ThroughputControl:
        """This environment's control of `version_arn`'s calls: `first` for the first version it calls, a new one
        (`new_control`) for each version after it, the last KEPT_CONTROLS kept."""
        with self._controls_lock:
            control = self._controls.pop(version_arn, None)
            if control is None:
                control = first if not self._controls else self._new_control()
            self._controls[version_arn] = control  # the most recent last
            while len(self._controls) > KEPT_CONTROLS:
                del self._controls[next(iter(self._controls))]
            return control


def in_service(settings: SettingsT, source: ModelVersionSource | None) -> SettingsT:
    """The function's settings (a dataclass with `model_arn`) with the version in service read now."""
    return settings if source is None else replace(settings, model_arn=source.current())  # type: ignore[type-var]


def control_for(version_arn: str, first: ThroughputControl, source: ModelVersionSource | None) -> ThroughputControl:
    """The throughput control of `version_arn`'s calls: `first` alone without a source of the version in service."""
    return first if source is None else source.throughput_for(version_arn, first)
