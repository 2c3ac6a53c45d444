"""Requests checked against botocore's Rekognition service model, as the service's front end checks them.

Types the JSON cannot be read as (a string for a number, bad base64 for a blob, a list for a structure) are
`SerializationException`; values outside the model's constraints (required, length, range, pattern, enum) are
`ValidationException` with the message format AWS's JSON services use ("1 validation error detected: Value ...
at 'image.s3Object.bucket' failed to satisfy constraint: ..."). Both answer HTTP 400. The model is read from
the botocore that is installed, so the emulator checks what the SDKs are generated from.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from typing import Any

import botocore.session
from botocore.model import OperationModel, Shape

from customlabels.local.emulator.errors import ServiceError


@functools.cache
def service_model():
    return botocore.session.get_session().get_service_model("rekognition")


def operation_model(operation: str) -> OperationModel:
    return service_model().operation_model(operation)


def validate(operation: str, request: Any) -> None:
    """Raise ServiceError for the first unreadable member or for every constraint the request breaks."""
    problems: list[str] = []
    _check(operation_model(operation).input_shape, request, "", problems)
    if problems:
        count = f"{len(problems)} validation error{'s' if len(problems) > 1 else ''} detected: "
        raise ServiceError("ValidationException", count + "; ".join(problems))


def _check(shape: Shape, value: Any, path: str, problems: list[str]) -> None:
    kind, limits = shape.type_name, shape.metadata
    where = path or "request"
    if kind == "structure":
        if not isinstance(value, dict):
            raise ServiceError("SerializationException", f"Expected an object at '{where}'")
        for name in shape.required_members:
            if value.get(name) is None:
                problems.append(
                    f"Value null at '{_join(path, name)}' failed to satisfy constraint: Member must not be null"
                )
        for name, member in shape.members.items():
            if value.get(name) is not None:
                _check(member, value[name], _join(path, name), problems)
    elif kind == "list":
        if not isinstance(value, list):
            raise ServiceError("SerializationException", f"Expected a list at '{where}'")
        _length(value, len(value), limits, path, problems)
        for index, item in enumerate(value):
            _check(shape.member, item, f"{path}.{index + 1}.member", problems)
    elif kind == "string":
        if not isinstance(value, str):
            raise ServiceError("SerializationException", f"Expected a string at '{where}'")
        _length(value, len(value), limits, path, problems)
        if "pattern" in limits and not re.fullmatch(limits["pattern"], value):
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy "
                f"regular expression pattern: {limits['pattern']}"
            )
        if shape.enum and value not in shape.enum:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must satisfy enum "
                f"value set: [{', '.join(shape.enum)}]"
            )
    elif kind in ("integer", "long", "float", "double"):
        if isinstance(value, bool) or not isinstance(value, int if kind in ("integer", "long") else (int, float)):
            raise ServiceError("SerializationException", f"Expected a number at '{where}', got {value!r}")
        if "min" in limits and value < limits["min"]:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
                f"greater than or equal to {limits['min']}"
            )
        if "max" in limits and value > limits["max"]:
            problems.append(
                f"Value '{value}' at '{path}' failed to satisfy constraint: Member must have value "
                f"less than or equal to {limits['max']}"
            )
    elif kind == "blob":
        _length("<bytes>", len(blob_bytes(value, where)), limits, path, problems)
    elif kind == "boolean" and not isinstance(value, bool):
        raise ServiceError("SerializationException", f"Expected true or false at '{where}'")


def blob_bytes(value: Any, where: str = "blob") -> bytes:
    """A blob as the JSON protocol carries it (base64 text), or raw bytes from an in-process caller."""
    if isinstance(value, bytes):
        return value
    if not isinstance(value, str):
        raise ServiceError("SerializationException", f"Expected base64 text at '{where}'")
    try:
        return base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError("SerializationException", f"'{where}' is not valid base64") from None


def _length(value: Any, length: int, limits: dict[str, Any], path: str, problems: list[str]) -> None:
    shown = value if isinstance(value, str) else "[...]"
    if "min" in limits and length < limits["min"]:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must have length "
            f"greater than or equal to {limits['min']}"
        )
    if "max" in limits and length > limits["max"]:
        problems.append(
            f"Value '{shown}' at '{path}' failed to satisfy constraint: Member must have length "
            f"less than or equal to {limits['max']}"
        )


def _join(path: str, member: str) -> str:
    name = member[:1].lower() + member[1:]
    return f"{path}.{name}" if path else name
