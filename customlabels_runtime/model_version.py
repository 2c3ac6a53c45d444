"""The version in service: which Custom Labels model version the pipeline calls, read at runtime from one SSM
parameter the stack creates (docs/model-lifecycle.md, "Versions: promote and roll back"). Standard library only.

The parameter holds one JSON document::

    {"version_arn": ARN,              # in service: the function calls it, the model manager starts and stops it
     "previous_arn": ARN | null,      # what `customlabels model rollback` goes back to
     "changed_at": ISO time | null,   # when `version_arn` last changed
     "retiring": null | {"version_arn": ARN, "stop_after": ISO time},
                                      # the version just replaced: it still answers images in flight, and is stopped
                                      # once `stop_after` has passed (by `model promote`, else by the manager)
     "promotion": null | {"candidate_arn": ARN, "phase": "starting" | "gating", "since": ISO time}}
                                      # a promotion under way, before its switch (for status and the spend guard)

A document that cannot be read is None to its readers, who keep the version they had (the deploy-time ARN first).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any

PROMOTION_PHASES = ("starting", "gating")


@dataclass(frozen=True)
class Retiring:
    version_arn: str
    stop_after: str


@dataclass(frozen=True)
class Promotion:
    candidate_arn: str
    phase: str
    since: str


@dataclass(frozen=True)
class VersionDocument:
    version_arn: str
    previous_arn: str | None = None
    changed_at: str | None = None
    retiring: Retiring | None = None
    promotion: Promotion | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse_version_document(value: Any) -> VersionDocument | None:
    """The document, or None when it is not one (not JSON, no `version_arn`); optional parts that cannot be read
    are left out rather than failing the whole document."""
    try:
        document = json.loads(value) if isinstance(value, str | bytes) else None
    except (ValueError, RecursionError):
        return None
    if not isinstance(document, dict) or _text(document.get("version_arn")) is None:
        return None
    retiring, promotion = document.get("retiring"), document.get("promotion")
    return VersionDocument(
        version_arn=document["version_arn"],
        previous_arn=_text(document.get("previous_arn")),
        changed_at=_text(document.get("changed_at")),
        retiring=Retiring(retiring["version_arn"], retiring["stop_after"])
        if isinstance(retiring, dict) and _text(retiring.get("version_arn")) and _text(retiring.get("stop_after"))
        else None,
        promotion=Promotion(promotion["candidate_arn"], promotion["phase"], promotion["since"])
        if isinstance(promotion, dict)
        and _text(promotion.get("candidate_arn"))
        and promotion.get("phase") in PROMOTION_PHASES
        and _text(promotion.get("since"))
        else None,
    )


def initial_document(version_arn: str) -> str:
    """What the stack (and the local twin) put in the parameter: the deploy-time `model_arn`, nothing else."""
    return VersionDocument(version_arn).to_json()


def project_of(version_arn: str) -> str:
    """The part of a version ARN that names its project (`arn:...:project/NAME`), '' for anything else: what tells
    a version of the pipeline's project from another project's, which the pipeline's IAM would refuse."""
    project, marker, _ = version_arn.partition("/version/")
    return project if marker and ":project/" in project else ""
