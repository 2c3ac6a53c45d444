"""The model manager's group of the configuration's checks (`PipelineConfig` in config.py runs them with the
others): its mode, its timing, the inference units, the spend guard's budget and the latency budget."""

from __future__ import annotations

from typing import Any

from customlabels.config_checks import check_range

MODEL_LIFECYCLES = ("on-demand", "always-on", "manual")


def model_manager_problems(config: Any) -> list[str]:
    """The model manager: its mode, its timing, the inference units and the spend guard's budget."""
    problems = []
    if config.model_lifecycle not in MODEL_LIFECYCLES:
        problems.append(
            f"model_lifecycle={config.model_lifecycle!r} is unknown. Fix: -c model_lifecycle=on-demand (start the "
            "model when images arrive, stop it when idle: the default), always-on, or manual (never touch it)"
        )
    problems += check_range(config, "idle_minutes", 1, 1440, "the idle time before an on-demand model stops")
    problems += check_range(config, "manager_interval_minutes", 1, 60, "the model manager's schedule")
    problems += check_range(config, "min_inference_units", 1, 100, "StartProjectVersion")
    if isinstance(config.min_inference_units, int) and (
        not isinstance(config.max_inference_units, int) or config.max_inference_units < config.min_inference_units
    ):
        problems.append(
            f"max_inference_units={config.max_inference_units!r} must be at least min_inference_units="
            f"{config.min_inference_units}. Fix: -c max_inference_units=<n >= min> (above min, Rekognition auto-scales)"
        )
    if config.max_model_hours_per_day is not None:
        if config.model_lifecycle == "manual":
            problems.append(
                "max_model_hours_per_day is set, but with model_lifecycle=manual the manager never starts "
                "or stops the model, so nothing would keep to it. Fix: leave it unset, or use "
                "-c model_lifecycle=on-demand"
            )
        else:
            problems += check_range(
                config, "max_model_hours_per_day", 1, 24, "the spend guard's model running hours per day (24: no cap)"
            )
    if config.max_wait_minutes is not None:
        problems += check_range(config, "max_wait_minutes", 1, 1440, "the latency budget (the queue keeps 4 days)")
        if config.model_lifecycle != "on-demand":
            problems.append(
                f"max_wait_minutes is set, but with model_lifecycle={config.model_lifecycle} the manager does not "
                "start the model on demand. Fix: leave it unset, or use -c model_lifecycle=on-demand"
            )
    return problems
