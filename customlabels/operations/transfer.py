"""Images into the pipeline's bucket and their results out of it, for a deployed stack or the local one
(`local serve` prints the endpoints; boto3 reads them from AWS_ENDPOINT_URL_S3 and AWS_ENDPOINT_URL_SQS).

Upload checks each file by content before sending it, so that what would only come back as an error
result (or never be picked up) is listed with its fix instead.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from os.path import commonprefix
from pathlib import Path
from typing import Any

from boto3.exceptions import S3UploadFailedError
from botocore.exceptions import BotoCoreError, ClientError
from PIL import Image, UnidentifiedImageError

from customlabels.config import image_name_problem
from customlabels.errors import CommandError
from customlabels.limits import MAX_ASPECT_RATIO, MAX_S3_IMAGE_BYTES, MAX_SIDE, MIN_SIDE
from customlabels.operations import dlq
from customlabels.outputs import KeyFolder, input_files
from customlabels_runtime.contract import (  # the handler's own rules
    KEY_TOO_LONG,
    MAX_KEY_BYTES,
    RESULT_SUFFIX,
    bytes_over_key_limit,
    is_input_image,
    result_key_for,
    result_status,
)

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}


@dataclass(frozen=True)
class Location:
    """Where the pipeline reads images and writes results (the stack's outputs)."""

    bucket: str
    upload_prefix: str
    results_prefix: str
    """The upload prefix when the results sit next to the images."""
    dead_letter_queue_url: str | None = None

    def result_key(self, key: str) -> str:
        return result_key_for(key, self.upload_prefix, self.results_prefix)

    def image_key(self, result_key: str) -> str | None:
        """The image a result key answers (the inverse of `result_key`), or None if it is not a result."""
        if not (result_key.startswith(self.results_prefix) and result_key.endswith(RESULT_SUFFIX)):
            return None
        key = self.upload_prefix + result_key[len(self.results_prefix) :].removesuffix(RESULT_SUFFIX)
        return key if is_input_image(key, self.upload_prefix, self.results_prefix) else None


def stack_location(outputs: dict[str, str], stack_name: str) -> Location:
    if "BucketName" not in outputs:
        raise CommandError(f"--stack {stack_name}: no BucketName output; is it a Custom Labels pipeline stack?")
    upload_prefix = outputs.get("UploadPrefix", "test_images/")
    return Location(
        outputs["BucketName"],
        upload_prefix,
        outputs.get("ResultsPrefix", upload_prefix),
        outputs.get("DeadLetterQueueUrl"),
    )


# --- upload -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Upload:
    path: Path
    key: str
    content_type: str


@dataclass(frozen=True)
class Skipped:
    path: Path
    reason: str
    drawn: bool = False
    """A picture customlabels drew (a gallery's, a report's): left out unless asked (`--include-outputs`)."""


def check_image(path: Path) -> tuple[str | None, str]:
    """(JPEG or PNG, "") for a file Rekognition accepts and the pipeline picks up, else (None, why and the fix)."""
    size = path.stat().st_size
    if size > MAX_S3_IMAGE_BYTES:
        return None, f"{size / 1024 / 1024:.1f} MB; Rekognition takes at most 15 MB: recompress or downscale it"
    try:
        with Image.open(path) as image:
            fmt, (width, height) = image.format, image.size
    except Image.DecompressionBombError:
        return None, f"declares a picture far over {MAX_SIDE} x {MAX_SIDE} px; Rekognition refuses it: resize it"
    except (UnidentifiedImageError, OSError):
        return None, "not an image by its content (whatever its name says): re-encode it as JPEG or PNG"
    fmt = "JPEG" if fmt == "MPO" else fmt  # a JPEG with a second embedded image, as phones write: still a JPEG
    if fmt not in CONTENT_TYPES:
        return None, f"a {fmt} image; Rekognition takes JPEG or PNG: convert it"
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        return None, f"{width} x {height} px; Rekognition takes {MIN_SIDE}-{MAX_SIDE} px per side: resize it"
    if max(width, height) > MAX_ASPECT_RATIO * min(width, height):
        return None, (f"{width} x {height} px is longer than {MAX_ASPECT_RATIO}:1, the most Rekognition takes: crop it")
    if problem := image_name_problem(path.name):
        return None, f"a {fmt} by content, but {problem}"
    return fmt, ""


def key_length_problem(key: str, result_key: str) -> str | None:
    """Why an image key cannot be used because S3 could not store it or its result (MAX_KEY_BYTES), with the fix."""
    for what, name in (("key", key), ("result key", result_key)):
        if over := bytes_over_key_limit(name):
            return (
                f"its {what} would be {MAX_KEY_BYTES + over} bytes, over S3's {MAX_KEY_BYTES}-byte limit for a "
                f"key, so {'S3 would refuse it' if what == 'key' else 'no result could ever be written'}: shorten "
                f"its path (or --prefix) by {over} bytes or more"
            )
    return None


PIPELINE_DRAWN = "a picture customlabels drew (visualize, evaluate --report), not a photo"


def plan_upload(
    folder: Path,
    prefix: str,
    result_key: Callable[[str], str] = lambda key: key + RESULT_SUFFIX,
    include_outputs: bool = False,
) -> tuple[list[Upload], list[Skipped]]:
    """Every file under `folder`, its relative path kept under `prefix`: to upload, or skipped with the reason.
    The pictures the tool drew are skipped (`Skipped.drawn`) unless `include_outputs`; so is an image whose key or
    result key (`result_key`) would be over S3's limit."""
    files, drawn = input_files(folder, include_outputs)
    uploads, skipped = [], [Skipped(path, PIPELINE_DRAWN, drawn=True) for path in drawn]
    for path in files:
        key = prefix + path.relative_to(folder).as_posix()
        fmt, reason = check_image(path)
        if fmt is not None and (problem := key_length_problem(key, result_key(key))):
            fmt, reason = None, problem
        if fmt is None:
            skipped.append(Skipped(path, reason))
        else:
            uploads.append(Upload(path, key, CONTENT_TYPES[fmt]))
    return uploads, skipped


class UploadInterrupted(KeyboardInterrupt):
    """Ctrl-C during `upload`: what was sent and what was not (the uploads in flight were let finish)."""

    def __init__(self, sent: list[Upload], not_sent: list[Upload]) -> None:
        super().__init__(f"interrupted: {len(sent)} sent, {len(not_sent)} not sent")
        self.sent, self.not_sent = sent, not_sent


def upload(
    s3: Any, bucket: str, uploads: list[Upload], workers: int = 8, on_sent: Callable[[Upload], None] | None = None
) -> dict[Upload, Exception]:
    """Uploads concurrently (boto3 clients are thread-safe); returns the failures with their error. `on_sent` is
    called for each upload S3 accepted, and only for those. Ctrl-C lets the uploads in flight finish, starts no
    other, and raises UploadInterrupted naming what was sent and what was not."""

    def send(item: Upload) -> None:
        s3.upload_file(str(item.path), bucket, item.key, ExtraArgs={"ContentType": item.content_type})

    failures = {}
    pool = ThreadPoolExecutor(max_workers=workers)
    futures = {pool.submit(send, item): item for item in uploads}
    try:
        for future in as_completed(futures):
            item = futures[future]
            try:
                future.result()
            except S3UploadFailedError as error:  # boto3's transfer wraps S3's answer: keep S3's own error
                failures[item] = error.__context__ if isinstance(error.__context__, ClientError) else error
            except (ClientError, BotoCoreError, OSError) as error:
                failures[item] = error
            else:
                if on_sent:
                    on_sent(item)
    except KeyboardInterrupt:
        pool.shutdown(wait=True, cancel_futures=True)
        sent = [
            item
            for future, item in futures.items()
            if future.done() and not future.cancelled() and future.exception() is None
        ]
        raise UploadInterrupted(sent, [item for item in uploads if item not in set(sent)]) from None
    finally:
        pool.shutdown(wait=True)
    return failures


def notified_prefixes(s3: Any, bucket: str) -> list[str] | None:
    """The key prefixes of which the bucket notifies a queue, topic or function when an object is created (the
    pipeline's queue among them): [] when it notifies nothing, None when that cannot be told (no right to read the
    configuration, or only EventBridge is notified and its rules decide)."""
    try:
        configuration = s3.get_bucket_notification_configuration(Bucket=bucket)
    except (ClientError, BotoCoreError):
        return None
    prefixes = set()
    for kind in ("QueueConfigurations", "TopicConfigurations", "LambdaFunctionConfigurations"):
        for target in configuration.get(kind, []):
            if any(event.startswith("s3:ObjectCreated:") for event in target.get("Events", [])):
                rules = target.get("Filter", {}).get("Key", {}).get("FilterRules", [])
                prefixes.add(next((rule["Value"] for rule in rules if rule["Name"].lower() == "prefix"), ""))
    if not prefixes and "EventBridgeConfiguration" in configuration:
        return None
    return sorted(prefixes)


# --- results ----------------------------------------------------------------------------------------------


STATUSES = ("labels", "nothing", "error", "unreadable", "pending", "dead-letter")
UNREADABLE = "unreadable"


@dataclass(frozen=True)
class ImageStatus:
    key: str
    status: str
    """`labels`, `nothing` (no label passed its threshold), `error` (see the result's Error), `unreadable` (its
    result file is not a JSON object), `dead-letter` (every retry failed) or `pending`."""
    result: dict[str, Any] | None = None
    problem: str | None = None
    """Why an `error` image has no result and never will (its result key would be over S3's key limit), or why
    an `unreadable` one's result file cannot be read (`not JSON (...)`, `not a JSON object (a list)`)."""


@dataclass(frozen=True)
class UnreadableResult:
    """A result file that is not a JSON object, and why: the other results are still read."""

    problem: str


JSON_TYPES = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def read_result(body: bytes) -> dict[str, Any] | UnreadableResult:
    """A result file's document, or why it is not one (anything can be written under a result key)."""
    try:
        document = json.loads(body)
    except ValueError as error:  # JSONDecodeError, or UnicodeDecodeError for bytes that are not UTF-8
        return UnreadableResult(f"not JSON ({error})")
    except RecursionError:
        return UnreadableResult("JSON nested too deep to read (not a result)")
    if not isinstance(document, dict):
        return UnreadableResult(f"not a JSON object ({JSON_TYPES.get(type(document), 'null')})")
    return document


def list_keys(s3: Any, bucket: str, prefix: str) -> list[str]:
    paginator = s3.get_paginator("list_objects_v2")
    return [
        item["Key"] for page in paginator.paginate(Bucket=bucket, Prefix=prefix) for item in page.get("Contents", [])
    ]


def image_keys(s3: Any, location: Location, prefix: str) -> list[str]:
    """The images under `prefix` the pipeline processes (not its results, not other files), and the images
    deleted before they were processed, which have a result (ImageDeletedBeforeProcessing) but no object."""
    separate_results = location.results_prefix != location.upload_prefix
    listed = list_keys(s3, location.bucket, prefix)
    images = [key for key in listed if is_input_image(key, location.upload_prefix, location.results_prefix)]
    results_listing = location.result_key(prefix).removesuffix(RESULT_SUFFIX)
    results = list_keys(s3, location.bucket, results_listing) if separate_results else listed
    answered = {location.image_key(key) for key in results} - {None} - set(images)
    return sorted(images + [key for key in answered if key.startswith(prefix)])


def dead_letter_keys(sqs: Any, dead_letter_queue_url: str) -> set[str]:
    """Image keys whose messages sit in the DLQ (peeked: they stay there)."""
    return {key for letter in dlq.peek(sqs, dead_letter_queue_url) for key in letter.keys}


def fetch_results(
    s3: Any, bucket: str, result_keys: Iterable[tuple[str, str]], workers: int = 8
) -> dict[str, dict | UnreadableResult]:
    """(image key, result key) pairs -> the result documents (or why one is unreadable), read concurrently."""

    def read(pair: tuple[str, str]) -> tuple[str, dict | UnreadableResult]:
        return pair[0], read_result(s3.get_object(Bucket=bucket, Key=pair[1])["Body"].read())

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return dict(pool.map(read, result_keys))


def save_result(folder: KeyFolder, result_key: str, document: dict[str, Any]) -> Path | None:
    """A result JSON in `folder` at its key's local path (customlabels.outputs: what `visualize`, `evaluate` and
    `review` read back); None when the file system could not hold it (the folder reported it)."""
    return folder.write_text(result_key, json.dumps(document, indent=2, ensure_ascii=False))


def status_of(
    key: str, result: dict | UnreadableResult | None, dead_letters: set[str], problem: str | None = None
) -> ImageStatus:
    if problem is not None:
        return ImageStatus(key, "error", None, problem)
    if isinstance(result, UnreadableResult):
        return ImageStatus(key, UNREADABLE, None, result.problem)
    status = result_status(result)
    return ImageStatus(key, "dead-letter" if status == "pending" and key in dead_letters else status, result)


def follow(
    s3: Any,
    location: Location,
    keys: list[str],
    *,
    sqs: Any = None,
    wait: bool = False,
    timeout: float = 900,
    poll: float = 5.0,
    on_progress: Callable[[int, int], None] | None = None,
) -> list[ImageStatus]:
    """The status of every key; with `wait`, polls until each has a result or sits in the DLQ (or `timeout`).
    Each poll lists the results once and reads only the new ones."""
    shared = commonprefix(keys)  # noqa: RUF071 - by character on purpose, then cut back to the last "/"
    folder = shared[: shared.rfind("/") + 1]
    listing = location.result_key(folder).removesuffix(RESULT_SUFFIX)  # where the results of keys under folder go
    results: dict[str, dict | UnreadableResult] = {}
    never = {key: problem for key in keys if (problem := key_length_problem(key, location.result_key(key)))}
    deadline = time.monotonic() + timeout
    while True:
        present = set(list_keys(s3, location.bucket, listing))
        fresh = [
            (key, location.result_key(key))
            for key in keys
            if key not in results and location.result_key(key) in present
        ]
        results.update(fetch_results(s3, location.bucket, fresh))
        pending = [key for key in keys if key not in results and key not in never]
        dead_letters = (
            dead_letter_keys(sqs, location.dead_letter_queue_url)
            if pending and sqs is not None and location.dead_letter_queue_url
            else set()
        )
        settled = len(results) + len(never) + len(dead_letters.intersection(pending))
        if on_progress:
            on_progress(settled, len(keys))
        if not wait or settled == len(keys) or time.monotonic() >= deadline:
            return [status_of(key, results.get(key), dead_letters, never.get(key)) for key in keys]
        time.sleep(poll)


CSV_COLUMNS = [
    "image",
    "status",
    "label",
    "confidence",
    "left",
    "top",
    "width",
    "height",
    "error_code",
    "error_message",
]


def csv_rows(statuses: Iterable[ImageStatus]) -> Iterable[list[Any]]:
    """One row per label (box ratios empty for image-level labels), one row for an image without any."""
    for item in statuses:
        error = (item.result or {}).get("Error") or (
            {"Code": "" if item.status == UNREADABLE else KEY_TOO_LONG, "Message": item.problem} if item.problem else {}
        )
        labels = (item.result or {}).get("CustomLabels") or [{}]
        for label in labels:
            box = (label.get("Geometry") or {}).get("BoundingBox") or {}
            yield [
                item.key,
                item.status,
                label.get("Name", ""),
                label.get("Confidence", ""),
                *(box.get(side, "") for side in ("Left", "Top", "Width", "Height")),
                error.get("Code", ""),
                error.get("Message", ""),
            ]


def to_json(statuses: Iterable[ImageStatus]) -> list[dict[str, Any]]:
    return [
        {
            "image": item.key,
            "status": item.status,
            "result": item.result,
            **({"problem": item.problem} if item.problem else {}),
        }
        for item in statuses
    ]
