"""The model lifecycle on a simulated clock, reported for `make bench`: the REAL model manager (`manage`: observe,
decide, act) against simulated services (customlabels/simulation/, which `customlabels cost` runs too), for a day
of each workload profile.

    python -m bench.lifecycle            (also part of `make bench`)

Three tables: each profile as deployed (on-upload trigger + schedule) and with the schedule alone; the spend
guard on a flood; and the latency budget (`max_wait_minutes`) on the trickle, the three bursts and the 10,000-image
burst, against today's on-demand and the minimum, with no minimum bill per start and with a whole hour per start.
tests/unit/test_lifecycle_simulation.py and tests/unit/test_wait_budget_simulation.py check the promises of
docs/model-lifecycle.md on them.
"""

from __future__ import annotations

import argparse
import sys

from customlabels.config import MODEL_ARN_EXAMPLE, TPS_PER_INFERENCE_UNIT, PipelineConfig
from customlabels.simulation.lifecycle import DAY, MAX_EVENT_AGE_SECONDS, Outcome, Profile, burst, simulate
from customlabels.simulation.services import START_SECONDS, STOP_SECONDS

# --- workloads -------------------------------------------------------------------------------------------

PROFILES = (
    Profile("10,000-image burst", burst(600, 10_000, 50)),
    Profile("trickle, 1 image / 5 min", tuple(600.0 + 300 * index for index in range(288))),
    Profile(
        "3 bursts a day (3 x 1,000)",
        burst(8 * 3600, 1000, 20) + burst(12 * 3600, 1000, 20) + burst(16 * 3600, 1000, 20),
    ),
    Profile("a day with no images", ()),
)
FLOOD = Profile(
    "flood, 1 image / 10 s all day",
    tuple(600.0 + 10 * index for index in range((DAY - 600) // 10)),
    seconds=DAY + 2 * 3600,
)
"""The flood: a client stuck in a loop keeps an on-demand model busy around the clock; the spend guard's budget
(`max_model_hours_per_day`) bounds its bill per UTC day (the simulation starts at 00:00 UTC)."""


# --- the report ------------------------------------------------------------------------------------------


def minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:,.1f}"


def unit_hours_per_1000(outcome: Outcome) -> str:
    """What the profile costs per 1,000 images in inference-unit hours, against the physical minimum."""
    if not outcome.images:
        return "-"
    units = outcome.config.max_inference_units
    billed, minimum = (
        seconds / 3600 * units / outcome.images * 1000
        for seconds in (outcome.running_seconds, outcome.minimum_running_seconds)
    )
    return f"{billed:.3f} / {minimum:.3f}"


def first(outcome: Outcome) -> str:
    """Minutes from the first upload to its result."""
    return minutes(outcome.latencies[0]) if outcome.latencies else "-"


def table(pairs: list[tuple[Outcome, Outcome]]) -> list[str]:
    """Markdown rows: each profile as deployed (on-upload trigger + schedule), and with the schedule alone."""
    rows = [
        "| profile | images | starts | billed min (RUNNING) | minimum billed (processing at capacity) | "
        "up min (STARTING to STOPPED) | minimum up (start + processing) | stop after last result (min) | "
        "first image's result (min) | worst result (min) | schedule alone: billed min / starts / first / worst | "
        "inference-unit hours per 1,000 images: billed / minimum (images / capacity) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for ours, alone in pairs:
        rows.append(
            f"| {ours.profile} | {ours.images:,} | {len(ours.starts)} | {minutes(ours.running_seconds)} | "
            f"{minutes(ours.minimum_running_seconds)} | {minutes(ours.up_seconds)} | "
            f"{minutes(ours.minimum_up_seconds)} | {minutes(ours.stop_after_last_result)} | "
            f"{first(ours)} | {minutes(max(ours.latencies, default=None))} | "
            f"{minutes(alone.running_seconds)} / {len(alone.starts)} / {first(alone)} / "
            f"{minutes(max(alone.latencies, default=None))} | {unit_hours_per_1000(ours)} |"
        )
    return rows


PRICE_PER_INFERENCE_UNIT_HOUR = 4.0
"""USD, the README's order of magnitude (check the Rekognition pricing page)."""


def spend_table(outcomes: list[Outcome]) -> list[str]:
    """Markdown rows: billed model hours per UTC day and what happened to the images, for each budget."""
    rows = [
        "| profile | budget (h/day) | billed h, day 1 | billed h, day 2 (first 2 h) | USD day 1 (1 IU at "
        f"{PRICE_PER_INFERENCE_UNIT_HOUR:.2f}) | images | answered | still queued at the end | in the DLQ | "
        "guard stops | alarm raised (h) | worst wait (h) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for outcome in outcomes:
        budget = outcome.config.effective_max_model_hours_per_day
        day_one = outcome.running_by_day.get(0, 0) / 3600
        rows.append(
            f"| {outcome.profile} | {budget or 'none'} | {day_one:.2f} | "
            f"{outcome.running_by_day.get(1, 0) / 3600:.2f} | "
            f"{day_one * outcome.config.max_inference_units * PRICE_PER_INFERENCE_UNIT_HOUR:.2f} | "
            f"{outcome.images:,} | {len(outcome.results):,} | {outcome.end_queued:,} | {outcome.dead_letters} | "
            f"{len(outcome.guard_stops)} | {outcome.guard_paused_seconds / 3600:.2f} | "
            f"{max(outcome.latencies, default=0) / 3600:.2f} |"
        )
    return rows


def flood_outcomes() -> list[Outcome]:
    """The flood with the default budget (12 h on demand) and without one (24)."""
    return [simulate(FLOOD), simulate(FLOOD, config=PipelineConfig(MODEL_ARN_EXAMPLE, max_model_hours_per_day=24))]


def run_all() -> list[tuple[Outcome, Outcome]]:
    return [(simulate(profile), simulate(profile, announcements=False)) for profile in PROFILES]


def assumptions() -> str:
    config = PipelineConfig(MODEL_ARN_EXAMPLE)
    return (
        f"idle_minutes {config.idle_minutes}, manager every {config.manager_interval_minutes} min, "
        f"{config.max_inference_units} inference unit ({TPS_PER_INFERENCE_UNIT} images/s), start "
        f"{START_SECONDS // 60} min, stop {STOP_SECONDS // 60} min, maxReceiveCount {config.max_receive_count}, "
        f"announcements: async, reserved concurrency 1, 0 retries, dropped after {MAX_EVENT_AGE_SECONDS} s"
    )


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    pairs = run_all()
    print(f"Model lifecycle simulation ({assumptions()})")
    print("\n".join(table(pairs)))
    print("\nThe spend guard on the flood")
    print("\n".join(spend_table(flood_outcomes())))
    return 0 if all(not a.manager_errors and not s.manager_errors for a, s in pairs) else 1


if __name__ == "__main__":
    sys.exit(main())
