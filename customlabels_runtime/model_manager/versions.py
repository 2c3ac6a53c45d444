"""The versions one run of the manager knows of, pure functions of the version document (customlabels_runtime/
model_version.py) and the statuses observed: which version is in service (the one it starts and stops), which ones
run (the spend guard counts each), and whether a `retiring` version is due to be stopped. Standard library only."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from customlabels_runtime.model_version import Retiring, VersionDocument, parse_version_document, project_of

STOP_RETIRING, CLEAR_RETIRING = "stop", "clear"


@dataclass(frozen=True)
class Versions:
    """What a run read of the versions: the document (None: unreadable, or not of the project), the version in
    service it manages, and the status of every version it knows (in service, retiring, a promotion's candidate)."""

    in_service: str
    document: VersionDocument | None = None
    statuses: Mapping[str, str] = field(default_factory=dict)
    problem: str | None = None
    """Why the document was not used (the manager then manages the version it managed last)."""
    replaced: str | None = None
    """A version the document replaced without naming it retiring (`replaced_unannounced`)."""

    @property
    def running(self) -> frozenset[str]:
        return frozenset(arn for arn, status in self.statuses.items() if status == "RUNNING")


def read_document(value: Any, deploy_time_arn: str) -> tuple[VersionDocument | None, str | None]:
    """The document, or None and why: not a document, or a version of another project (which the manager's IAM
    would refuse, and which it must never start)."""
    document = parse_version_document(value)
    if document is None:
        return None, "the version-in-service parameter holds no version document"
    if project_of(document.version_arn) != project_of(deploy_time_arn):
        return None, f"version_arn {document.version_arn!r} is not a version of the pipeline's project"
    return document, None


def in_service(document: VersionDocument | None, managed_last: Any, deploy_time_arn: str) -> str:
    """The document's version; without one, the version the manager managed last (its state), else the deploy-time
    one: an unreadable document never makes the manager start a version it had left."""
    if document is not None:
        return document.version_arn
    if isinstance(managed_last, str) and managed_last and project_of(managed_last) == project_of(deploy_time_arn):
        return managed_last
    return deploy_time_arn


def replaced_unannounced(document: VersionDocument | None, managed_last: Any) -> str | None:
    """The version the manager managed until the document changed without naming it `retiring` or as a candidate: a
    `cdk deploy` with another `model_arn` rewrites the document so, as may a hand edit. It still runs and bills, so the
    manager retires it as `model promote` would (`with_retiring`). None when the document accounts for it."""
    if document is None or not isinstance(managed_last, str) or not managed_last:
        return None
    accounted = {document.version_arn}
    if document.retiring is not None:
        return None  # one retiring version at a time: the record there is stopped first
    if document.promotion is not None:
        accounted.add(document.promotion.candidate_arn)
    same_project = project_of(managed_last) == project_of(document.version_arn)
    return managed_last if managed_last not in accounted and same_project else None


def with_retiring(document: VersionDocument, version_arn: str, stop_after: datetime) -> VersionDocument:
    return replace(document, retiring=Retiring(version_arn, stop_after.isoformat()))


def known_versions(document: VersionDocument | None, version_in_service: str, replaced: str | None = None) -> list[str]:
    """The versions whose status the run reads: in service first, then retiring, a promotion's candidate and one
    replaced unannounced (of the project: another project's is never touched)."""
    others = [replaced] if replaced else []
    if document is not None:
        if document.retiring is not None:
            others.append(document.retiring.version_arn)
        if document.promotion is not None:
            others.append(document.promotion.candidate_arn)
    project = project_of(version_in_service)
    return list(dict.fromkeys([version_in_service, *(arn for arn in others if project_of(arn) == project)]))


def _moment(value: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.utcoffset() is not None else None


def retirement(versions: Versions, now: datetime) -> str | None:
    """What to do about the `retiring` version: nothing before its `stop_after` (images in flight may still call it)
    or while it is STARTING; once past, stop it if it is still RUNNING (STOP_RETIRING), else just clear the record
    (CLEAR_RETIRING: stopped, failed, gone). The version in service is never stopped for retiring. A `stop_after`
    that is not a time with a zone counts as past: a record nobody can read must not bill forever."""
    document = versions.document
    if document is None or document.retiring is None:
        return None
    retiring = document.retiring
    due = _moment(retiring.stop_after)
    if due is not None and now < due:
        return None
    status = versions.statuses.get(retiring.version_arn, "")
    if retiring.version_arn == versions.in_service or status not in ("RUNNING", "STARTING"):
        return CLEAR_RETIRING
    return STOP_RETIRING if status == "RUNNING" else None


def without_retiring(document: VersionDocument) -> VersionDocument:
    return replace(document, retiring=None)
