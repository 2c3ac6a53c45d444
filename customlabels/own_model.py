"""The `onnx` backend's configuration (`backend`, `onnx_model`, `onnx_model_key_arn`), checked once with the rest
of `PipelineConfig`: where the model is, and, for a model on this machine, that its spec fits its graph, so that
`cdk synth` refuses a model the function could not run (docs/own-model.md)."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from customlabels_runtime.onnx_model.spec import SPEC_SUFFIX

BACKENDS = ("custom-labels", "onnx")
ONNX_DEFAULT_MEMORY_MB = 2048
"""The function's memory with the onnx backend unless `function_memory_mb` says otherwise: Lambda gives CPU in
proportion to memory (one vCPU at 1,769 MB), and the model runs on it."""
ONNX_DEFAULT_MAX_CONCURRENCY = 10
"""The event source's maximum concurrency with the onnx backend unless `max_concurrency` says otherwise: no model
capacity to size it from, so a bound that keeps a flood of uploads from taking the account's concurrency."""
BUNDLED_MODEL_FOLDER = "model"
"""Where a local model (and its spec beside it) goes in the function's asset: `model/<file name>`."""
S3_URI = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])/(?P<key>.+)$")
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key/[0-9a-f-]{36}$")


def s3_location(uri: str) -> tuple[str, str] | None:
    """(bucket, key) of an `s3://bucket/key` URI, None for anything else."""
    match = S3_URI.match(uri)
    return (match["bucket"], match["key"]) if match else None


def s3_objects(onnx_model: str) -> list[tuple[str, str]]:
    """(bucket, key) of what the function reads of an S3 model: the model and its spec beside it; [] for a local one."""
    location = s3_location(onnx_model)
    return [(location[0], location[1] + suffix) for suffix in ("", SPEC_SUFFIX)] if location else []


def bundled_location(onnx_model: str) -> str:
    """A local model's path in the function's asset (`model/bees.onnx`)."""
    return f"{BUNDLED_MODEL_FOLDER}/{Path(onnx_model).name}"


def bundled_files(onnx_model: str) -> dict[str, Path]:
    """What a local model adds to the function's asset, by path there: the model and its spec file, if any (none
    for an S3 model, read at the function's start)."""
    if s3_location(onnx_model):
        return {}
    model = Path(onnx_model).expanduser().resolve()
    spec = model.with_name(model.name + SPEC_SUFFIX)
    files = {bundled_location(onnx_model): model}
    if spec.is_file():
        files[bundled_location(onnx_model) + SPEC_SUFFIX] = spec
    return files


def function_location(onnx_model: str) -> str:
    """Where the function finds the model (its ONNX_MODEL): the s3:// URI, or the path in its asset."""
    return onnx_model if s3_location(onnx_model) else bundled_location(onnx_model)


def backend_problems(backend: Any, onnx_model: Any, key_arn: Any) -> list[str]:
    """Every problem of the backend's keys, each naming the key and the fix."""
    if backend not in BACKENDS:
        return [
            f"backend={backend!r} is unknown. Fix: -c backend=custom-labels (Rekognition Custom Labels, the "
            "default) or -c backend=onnx -c onnx_model=<model.onnx or s3://bucket/key>"
        ]
    if backend == "custom-labels":
        stray = [name for name, value in (("onnx_model", onnx_model), ("onnx_model_key_arn", key_arn)) if value]
        return [
            f"{name} is set, but backend=custom-labels does not use it. Fix: -c backend=onnx, or leave it unset"
            for name in stray
        ]
    problems = []
    if key_arn is not None and not (isinstance(key_arn, str) and KMS_KEY_ARN.match(key_arn)):
        problems.append(
            f"onnx_model_key_arn={key_arn!r} is not a KMS key ARN. Fix: the ARN of the key that "
            "encrypts the model's object (arn:aws:kms:<region>:<account>:key/<id>), or leave it unset"
        )
    if not isinstance(onnx_model, str) or not onnx_model:
        return [
            *problems,
            "backend=onnx needs onnx_model. Fix: -c onnx_model=path/to/model.onnx (bundled into the "
            "function) or -c onnx_model=s3://bucket/key.onnx (read when the function starts)",
        ]
    if onnx_model.startswith("s3://"):
        if s3_location(onnx_model) is None:
            problems.append(
                f"onnx_model={onnx_model!r} is not an s3://bucket/key URI. Fix: -c onnx_model=s3://my-models/bees.onnx"
            )
        return problems
    if key_arn is not None:
        problems.append(
            "onnx_model_key_arn is set, but the model is a local file bundled into the function. Fix: leave it unset"
        )
    return problems + local_model_problems(onnx_model)


def local_model_problems(onnx_model: str) -> list[str]:
    """Problems of a model on this machine: missing, or its spec not fitting its graph (one line each)."""
    path = Path(onnx_model).expanduser()
    if not path.is_file():
        return [f"onnx_model={onnx_model!r}: no such file. Fix: the path of the .onnx file, or an s3://bucket/key URI"]
    stat = path.stat()
    return list(_checked(str(path.resolve()), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _checked(path: str, _size: int, _mtime_ns: int) -> tuple[str, ...]:
    """The model loaded and its spec checked, once per version of the file (the configuration is built often)."""
    try:
        from customlabels_runtime.onnx_model.model import OwnModel
        from customlabels_runtime.onnx_model.spec import SpecError
    except ModuleNotFoundError as error:
        if error.name != "onnxruntime":
            raise
        return (
            f"onnx_model needs onnxruntime to check the model here ({error}). Fix: pip install onnxruntime==1.32.0",
        )
    try:
        OwnModel.from_file(path, Path(path).name)
    except SpecError as error:
        return tuple(f"onnx_model: {problem}" for problem in error.problems)
    except Exception as error:  # onnxruntime's own errors: not a model it can load
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        return (
            f"onnx_model={Path(path).name!r} is not an ONNX model onnxruntime can load ({first_line}). Fix: "
            "export it again (docs/own-model.md)",
        )
    return ()
