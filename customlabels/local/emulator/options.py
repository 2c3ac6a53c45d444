"""How the emulated model behaves, in one typed object validated once: `ModelOptions`.

`ModelOptions(...)` takes typed values (bench and tests build it so) and refuses values the emulator cannot run
with; `ModelOptions.from_specs(...)` first reads the words a user types (`--faults throttle=0.1`, `--fault-plan
throttle:3`, `--scale-after up=5,down=30`). Both raise `OptionError`, whose message the CLI shows with its flags.
What the model sees (`--model`, `--noise`) is the backend's option: `backends.manifest_model`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from customlabels.local.emulator.backends import Noise
from customlabels.local.emulator.capacity import (
    DEFAULT_SCALE_DOWN_AFTER,
    DEFAULT_SCALE_UP_AFTER,
    DEFAULT_TPS_PER_INFERENCE_UNIT,
)
from customlabels.local.emulator.errors import OptionError
from customlabels.local.emulator.faults import PlannedFault, parse_fault_plan, parse_faults

SCALE_AFTER_HINT = "use up=SECONDS,down=SECONDS with 0 or more seconds, e.g. up=5,down=30"


@dataclass(frozen=True)
class ModelOptions:
    """How the emulated model behaves (see `CustomLabelsService`)."""

    running: bool | None = None
    """None: as the lifecycle implies (stopped on demand and always-on, so the manager starts it)."""
    inference_units: int = 1
    """Units of a model that starts RUNNING (a model the manager starts gets the configuration's)."""
    max_inference_units: int | None = None
    """Above `inference_units`, a model that starts RUNNING auto-scales up to it."""
    start_delay: float = 0.0
    tps_per_inference_unit: float = DEFAULT_TPS_PER_INFERENCE_UNIT
    """The emulated model's true capacity per unit, which the pipeline's configuration does not know."""
    scale_up_after: float = DEFAULT_SCALE_UP_AFTER
    scale_down_after: float = DEFAULT_SCALE_DOWN_AFTER
    latency: float = 0.0
    faults: dict[str, float] = field(default_factory=dict)
    fault_plan: list[PlannedFault] = field(default_factory=list)
    assumed_thresholds: dict[str, float] = field(default_factory=dict)
    seed: int = 0
    training_delay: float = 0.0
    """How long a training (CreateProjectVersion) lasts."""
    noise: Noise = field(default_factory=Noise)
    """How imperfect a trained version is (the manifest model's `--noise`, seeded by `seed`)."""

    def __post_init__(self) -> None:
        if self.inference_units < 1:
            raise OptionError("{inference_units} {units}: give 1 or more", units=self.inference_units)
        if self.max_inference_units is not None and self.max_inference_units < self.inference_units:
            raise OptionError(
                "{max_inference_units} {maximum} is below {inference_units} {minimum}. "
                "Fix: {max_inference_units} {minimum} or more (or leave it out)",
                maximum=self.max_inference_units,
                minimum=self.inference_units,
            )
        if self.tps_per_inference_unit <= 0:
            raise OptionError("{tps_per_inference_unit} {tps:g}: give more than 0", tps=self.tps_per_inference_unit)
        if self.scale_up_after < 0 or self.scale_down_after < 0:
            raise OptionError("{scale_after}: negative delay; " + SCALE_AFTER_HINT)
        if self.latency < 0:
            raise OptionError("{latency} {seconds:g}: give 0 or more seconds", seconds=self.latency)
        if self.start_delay < 0:
            raise OptionError("{start_delay} {seconds:g}: give 0 or more seconds", seconds=self.start_delay)
        if self.training_delay < 0:
            raise OptionError("{training_delay} {seconds:g}: give 0 or more seconds", seconds=self.training_delay)
        parse_faults(self.faults)  # each rate 0 to 1, each name an error code

    @classmethod
    def from_specs(
        cls,
        *,
        faults: str | None = None,
        fault_plan: str | None = None,
        scale_after: Mapping[str, float] | None = None,
        **values: Any,
    ) -> ModelOptions:
        """From the words a user types: `faults` as `throttle=0.1,internal=0.02`, `fault_plan` as
        `throttle:3,internal@*/bad.jpg` (see `faults`), `scale_after` as {"up": seconds, "down": seconds}; the
        other options as typed values."""
        delays = dict(scale_after or {})
        unknown = set(delays) - {"up", "down"}
        if unknown:
            raise OptionError("{scale_after}: unknown {names}; " + SCALE_AFTER_HINT, names=", ".join(sorted(unknown)))
        return cls(
            faults=parse_faults(faults),
            fault_plan=parse_fault_plan(fault_plan),
            **{f"scale_{direction}_after": seconds for direction, seconds in delays.items()},
            **values,
        )
