"""The conversion of configuration values as CDK context gives them (`-c key=value` strings, or cdk.json's JSON
values) to each field's type, before `PipelineConfig` checks them."""

from __future__ import annotations

from typing import Any

_INT_KEYS = {
    "batch_size",
    "max_concurrency",
    "max_receive_count",
    "log_retention_days",
    "function_timeout_seconds",
    "function_memory_mb",
    "idle_minutes",
    "min_inference_units",
    "max_inference_units",
    "manager_interval_minutes",
    "max_message_age_minutes",
    "max_model_hours_per_day",
    "max_wait_minutes",
}


def convert(name: str, value: Any) -> Any:
    """`value` of key `name` as its field's type: whole numbers for the counts, a float or None for min_confidence,
    None for an unset optional key (`none`, `null`, ``, and `auto` where a value is derived), lower case for the
    modes; anything else as it is, for the checks to judge. ValueError names the key and the fix."""
    if name in ("max_concurrency", "max_model_hours_per_day", "function_memory_mb") and _unset(value, "auto"):
        return None  # derived: effective_max_concurrency, _max_model_hours_per_day, _function_memory_mb
    if name == "max_wait_minutes" and _unset(value):
        return None
    if name in _INT_KEYS:
        return _whole_number(name, value)
    if name == "min_confidence":
        if _unset(value):
            return None
        try:
            return float(value)
        except (TypeError, ValueError):
            raise ValueError(
                f"min_confidence={value!r} is not a number. Fix: -c min_confidence=<0-100>, or leave it unset "
                "to use the model's assumed per-label thresholds"
            ) from None
    if name in ("results_prefix", "alarm_email", "onnx_model", "onnx_model_key_arn") and isinstance(value, str):
        return None if _unset(value) else value
    if name in ("removal_policy", "model_lifecycle", "backend") and isinstance(value, str):
        return value.strip().lower()
    return value


def _unset(value: Any, *also: str) -> bool:
    """None, or a string that says so: ``, `none`, `null` (and `also`), in any case."""
    return value is None or (isinstance(value, str) and value.strip().lower() in ("", "none", "null", *also))


def _whole_number(name: str, value: Any) -> int:
    not_whole = ValueError(f"{name}={value!r} is not a whole number. Fix: -c {name}=<integer>")
    if isinstance(value, bool):
        raise not_whole
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise not_whole from None
    if not number.is_integer():
        raise not_whole
    return int(number)
