"""The latency budget (`max_wait_minutes`) in the lifecycle simulation: the trickle, the three bursts a day and the
10,000-image burst with budgets of 15 minutes, 1 hour and 6 hours, against today's on-demand (no budget) and the
minimum, with no minimum bill per start (what AWS documents) and with a whole hour per start (the worst case).

    python -m bench.wait_budget            (also part of `make bench`)

The targets of issue 30 are checked and each verdict printed; tests/unit/test_wait_budget_simulation.py checks
the same runs.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, replace

from bench.lifecycle import PROFILES
from customlabels.config import MODEL_ARN_EXAMPLE, PipelineConfig
from customlabels.simulation.lifecycle import Outcome, Profile, simulate
from customlabels.simulation.services import START_SECONDS

BUDGET_PROFILES = ("trickle, 1 image / 5 min", "3 bursts a day (3 x 1,000)", "10,000-image burst")
BUDGETS_MINUTES = (15, 60, 360)
HOUR_PER_START = 3600.0
TARGETS = {
    ("trickle, 1 image / 5 min", 360): 30,
    ("trickle, 1 image / 5 min", 60): 120,
    ("3 bursts a day (3 x 1,000)", 60): 24,
}
"""Billed model minutes a day (no minimum per start) at most, issue 30."""


@dataclass(frozen=True)
class BudgetRun:
    profile: Profile
    budget_minutes: int
    outcome: Outcome
    today: Outcome
    """The same profile on demand without a budget (today's behaviour)."""

    @property
    def tick_seconds(self) -> float:
        return self.outcome.config.manager_interval_minutes * 60

    @property
    def late(self) -> list[float]:
        """Waits longer than the budget plus one manager tick (the promise)."""
        limit = self.budget_minutes * 60 + self.tick_seconds
        return [wait for wait in self.outcome.latencies if wait > limit]

    @property
    def best_possible_worst_wait(self) -> float:
        """No schedule does better: one start at the first upload, then every image at capacity, the last
        uploaded one answered last."""
        uploads = self.profile.uploads
        return min(uploads) + START_SECONDS + len(uploads) / self.outcome.capacity - max(uploads)


def with_horizon(profile: Profile, budget_minutes: int) -> Profile:
    """Long enough for the last upload to wait its budget and be answered."""
    return replace(profile, seconds=max(profile.seconds, int(max(profile.uploads)) + budget_minutes * 60 + 7200))


def budget_runs(today: dict[str, Outcome] | None = None) -> list[BudgetRun]:
    """Every profile at every budget, beside today's run of it (simulated here unless given)."""
    runs = []
    for profile in (next(p for p in PROFILES if p.name == name) for name in BUDGET_PROFILES):
        before = (today or {}).get(profile.name) or simulate(profile)
        for minutes in BUDGETS_MINUTES:
            config = PipelineConfig(MODEL_ARN_EXAMPLE, max_wait_minutes=minutes)
            runs.append(BudgetRun(profile, minutes, simulate(with_horizon(profile, minutes), config=config), before))
    return runs


def _minutes(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds / 60:,.1f}"


def budget_table(runs: list[BudgetRun]) -> list[str]:
    rows = [
        "| profile | budget | billed min | billed min, 1 h minimum per start | starts | worst wait (min) | median "
        "wait (min) | today on demand: billed min / 1 h per start / starts / worst / median | minimum billed "
        "(images at capacity) / 1 h per start | target billed min | every result within budget + 1 tick |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for run in runs:
        ours, today = run.outcome, run.today
        minimum = ours.minimum_running_seconds
        target = TARGETS.get((run.profile.name, run.budget_minutes))
        rows.append(
            f"| {run.profile.name} | {run.budget_minutes} min | {_minutes(ours.billed_seconds())} | "
            f"{_minutes(ours.billed_seconds(HOUR_PER_START))} | {len(ours.starts)} | {_minutes(ours.worst_wait)} | "
            f"{_minutes(ours.median_wait)} | {_minutes(today.billed_seconds())} / "
            f"{_minutes(today.billed_seconds(HOUR_PER_START))} / {len(today.starts)} / "
            f"{_minutes(today.worst_wait)} / {_minutes(today.median_wait)} | {_minutes(minimum)} / "
            f"{_minutes(max(minimum, HOUR_PER_START))} | {'-' if target is None else f'<= {target}'} | "
            f"{'yes' if not run.late else f'no: {len(run.late):,} of {ours.images:,} later'} |"
        )
    return rows


def verdicts(runs: list[BudgetRun]) -> list[str]:
    """Each target of issue 30, met or not, and why not."""
    lines = []
    for run in runs:
        ours, name = run.outcome, f"{run.profile.name} at {run.budget_minutes} min"
        target = TARGETS.get((run.profile.name, run.budget_minutes))
        billed = ours.billed_seconds() / 60
        if target is not None:
            verdict = "met" if billed <= target else "NOT met"
            lines.append(f"- {name}: {billed:,.1f} billed min, target <= {target}: {verdict}")
        if billed > run.today.billed_seconds() / 60:
            lines.append(f"- {name}: bills more than today ({run.today.billed_seconds() / 60:,.1f} min): NOT met")
        if run.late:
            lines.append(
                f"- {name}: {len(run.late):,} results later than the budget + 1 tick (worst "
                f"{_minutes(ours.worst_wait)} min): NOT met, and no schedule can: one start at the first upload and "
                f"every image at capacity still leave the last one waiting {_minutes(run.best_possible_worst_wait)} "
                "min; the manager starts at once, as without a budget"
            )
        hourly, hourly_today = ours.billed_seconds(HOUR_PER_START), run.today.billed_seconds(HOUR_PER_START)
        if hourly > hourly_today:
            lines.append(
                f"- {name}, with a whole hour billed per start: {hourly / 60:,.0f} min against today's "
                f"{hourly_today / 60:,.0f} ({len(ours.starts)} starts): a short budget pays for its starts there"
            )
    errors = [error for run in runs for error in run.outcome.manager_errors]
    lost = [run for run in runs if len(run.outcome.results) != run.outcome.images or run.outcome.dead_letters]
    kept = "yes" if not errors and not lost else "NO"
    lines.append(f"- every image answered, none in the DLQ, no manager error: {kept}")
    return lines


def main() -> int:
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    runs = budget_runs()
    print("\n".join(budget_table(runs)))
    print("\n".join(verdicts(runs)))
    return 0 if all(not run.outcome.manager_errors for run in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
