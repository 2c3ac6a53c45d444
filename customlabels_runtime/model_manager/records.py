"""The records one run of the manager passes from step to step: what `observe` saw (an `Observation`, with the
`Inspection` of the waiting messages), and what `decide` chose (a `Decision`) for `act` to carry out."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from customlabels_runtime.model_manager.versions import Versions


@dataclass(frozen=True)
class Inspection:
    """What one look at the waiting messages found (ReceiveMessage of up to 10, then delete or release)."""

    received: int = 0
    images: int = 0
    discarded: int = 0
    """Messages that can never be work (S3's test event, non-image keys), deleted."""
    unknown: int = 0
    error: str | None = None
    image_key: str | None = None
    """The key of one image found waiting, for `customlabels model status` and the late-image warning."""


@dataclass(frozen=True)
class Observation:
    now: datetime
    visible: int
    in_flight: int
    model_status: str
    mapping_enabled: bool
    last_activity: datetime | None
    work_announced: bool = False
    """Invoked by an image's upload event: an image is coming even if its message is not in the queue yet."""
    image_seen_at: datetime | None = None
    """When an image was last known to wait while the model was not running (an announcement, or a look at the
    queue), from this run or the state; None when no image is known to wait."""
    announced_at: datetime | None = None
    """The announced upload's time (EventBridge's `time`); None: now. While the model runs, the idle timer moves to
    it, never later: the upload put its message in the queue then, even if it was answered between two runs."""
    mapping_busy: bool = False
    """The event source is Creating, Updating or Deleting: not touched, and the model not stopped under it."""
    inspection: Inspection | None = None
    running_seconds_today: float = 0.0
    """Seconds the model has been RUNNING this UTC day (since a `customlabels model resume`), up to now."""
    announced_key: str | None = None
    """The announced upload's key."""
    waiting_key: str | None = None
    """The key of the image waiting since `image_seen_at`, when known (from the state, or this run's look)."""
    start_seconds: float | None = None
    """How long this model's recent starts took, as the manager saw them (learning.py); None: none seen yet."""
    images_per_second: float | None = None
    """How fast the inference function drained the queue in recent runs (learning.py); None: not measured yet."""
    starting_since: datetime | None = None
    """When the manager asked for the start that is under way (StartProjectVersion), if it did."""
    versions: Versions | None = None
    """The version in service (whose status is `model_status`), and every version known and its status (versions.py);
    None: the deploy-time model alone (the rules' tests and the simulations)."""

    @property
    def queued(self) -> int:
        return self.visible + self.in_flight

    @property
    def model_arn(self) -> str | None:
        """The version in service, the one the manager starts and stops (None: the deploy-time MODEL_ARN)."""
        return self.versions.in_service if self.versions else None

    @property
    def running(self) -> frozenset[str]:
        """Every version RUNNING now, each counted by the spend guard ("" for the version in service, unnamed)."""
        running = self.versions.running if self.versions else frozenset()
        return running | ({self.model_arn or ""} if self.model_status == "RUNNING" else frozenset())


@dataclass(frozen=True)
class Decision:
    reason: str
    last_activity: datetime
    idle_seconds: float
    start_model: bool = False
    stop_model: bool = False
    enable_mapping: bool | None = None
    """True to enable the event source, False to disable it, None to leave it as it is."""
    image_seen_at: datetime | None = None
    """What to remember: an image waits for a model that is not running yet (so no run looks at the queue again)."""
    budget_paused: bool = False
    """The spend guard holds the model stopped and the images in the queue until the next UTC day or a resume."""
    waiting_key: str | None = None
    """The key of the image waiting since `image_seen_at`, when known."""
    start_due_at: datetime | None = None
    """With a latency budget, when the model will be started for the oldest waiting image (None: no budget, or
    nothing waits, or it starts now)."""
