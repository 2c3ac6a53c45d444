"""Where the function's model comes from (its ONNX_MODEL): a file of its asset (`model/bees.onnx`, a path relative
to the asset's root, or an absolute one as the local twin gives), or an `s3://bucket/key` object read once per
execution environment. The spec is the `.json` beside it (for S3, the object `<key>.json`, which the function may
also read), else the model's metadata."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from customlabels_runtime.contract import error_code
from customlabels_runtime.onnx_model.model import OwnModel
from customlabels_runtime.onnx_model.spec import SPEC_SUFFIX, SpecError

ASSET_ROOT = Path(__file__).resolve().parents[2]
"""The asset's root in Lambda (the task root, beside `customlabels_runtime/`), where a bundled model is."""
S3_URI = re.compile(r"^s3://(?P<bucket>[^/]+)/(?P<key>.+)$")
NO_SPEC_OBJECT = ("NoSuchKey", "404", "NotFound", "AccessDenied", "403")
"""A missing spec object: 404, or 403 where the function may not list the bucket (S3 then hides whether it exists)."""


def load_model(location: str, s3: Any) -> OwnModel:
    """The model at `location`, its spec checked against its graph (SpecError with one line per problem)."""
    match = S3_URI.match(location)
    if match is None:
        path = Path(location)
        return OwnModel.from_file(path if path.is_absolute() else ASSET_ROOT / path, path.name)
    bucket, key = match["bucket"], match["key"]
    model = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    return OwnModel.load(model, location, _spec_object(s3, bucket, key + SPEC_SUFFIX, location))


def _spec_object(s3: Any, bucket: str, key: str, location: str) -> Any | None:
    try:
        text = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    except ClientError as error:
        if error_code(error) in NO_SPEC_OBJECT:
            return None
        raise
    try:
        return json.loads(text)
    except ValueError as error:
        raise SpecError(
            [
                f"s3://{bucket}/{key} is not valid JSON ({error}). Fix: correct it, or run "
                f"`customlabels model inspect` on {location} with --write-spec and upload the result"
            ]
        ) from None
