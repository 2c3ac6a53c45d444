"""`customlabels upload` and `customlabels results`: images into the pipeline's bucket, and their results out."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from customlabels.cli.common import (
    POSITIVE,
    SECONDS,
    aws_client,
    console,
    error_console,
    input_folder,
    labels_text,
    number,
    output_folder,
    print_not_saved,
)
from customlabels.cli.results_check import print_schema_check
from customlabels.errors import CommandError
from customlabels.escaping import shown
from customlabels_runtime.contract import DEFAULT_STACK_NAME

STATUS_WORDS = {
    "labels": "with labels",
    "nothing": "with nothing detected",
    "error": "with an Error result",
    "unreadable": "with a result file that is not a JSON object",
    "pending": "pending",
    "dead-letter": "in the dead-letter queue",
}


def register(commands: argparse._SubParsersAction) -> None:
    _register_upload(commands)
    _register_results(commands)


def _register_upload(commands: argparse._SubParsersAction) -> None:
    uploading = commands.add_parser(
        "upload",
        help="upload a folder of images to the pipeline's bucket, concurrently",
        description="Checks every file under FOLDER by its content (JPEG or PNG, at most 15 MB, 64-4096 px per side, "
        "a name the pipeline picks up, a key and result key S3 can store) and uploads the good ones "
        "concurrently under --prefix, keeping their paths; the others are listed with the fix and not "
        "sent, and the pictures customlabels drew (visualize, evaluate --report) are left out. Ctrl-C "
        "stops it and says what was sent and what was not. The bucket comes from the "
        "stack's outputs (--stack) or is given (--bucket; for the local stack, set the endpoints that "
        "`local serve` prints).",
    )
    uploading.add_argument("folder", help="folder of images (searched recursively)")
    _bucket_options(uploading)
    uploading.add_argument("--workers", type=POSITIVE, default=8, help="concurrent uploads (default 8)")
    uploading.add_argument(
        "--include-outputs",
        action="store_true",
        help="send the pictures customlabels drew too (a gallery's or report's, tagged as such), which are "
        "left out by default: each would be a billed model call",
    )
    uploading.set_defaults(func=upload_command)


def _register_results(commands: argparse._SubParsersAction) -> None:
    fetching = commands.add_parser(
        "results",
        help="the results of the uploaded images; --wait follows them until done",
        description="Lists the images under --prefix and reads their result JSONs: labels, nothing detected, an "
        "error, still pending, or in the dead-letter queue (known with --stack or "
        "--dead-letter-queue-url). --wait polls until every image has a result or sits in the DLQ, "
        "with a progress bar on stderr, and exits 1 if some never finished. --out saves the result "
        "JSONs (the layout `visualize --results` reads; a key no file system can hold as it is, is "
        "escaped: docs/results-and-gallery.md).",
    )
    _bucket_options(fetching)
    fetching.add_argument(
        "--results-prefix",
        help="with --bucket: where results are written, if not next to the images (the stack's results_prefix)",
    )
    fetching.add_argument("--dead-letter-queue-url", help="with --bucket: the DLQ, to tell failed images from pending")
    fetching.add_argument(
        "--wait", action="store_true", help="follow until every image has a result or sits in the DLQ"
    )
    fetching.add_argument(
        "--timeout",
        type=number(at_least=0),
        default=900,
        metavar="SECONDS",
        help="--wait gives up after this long (default 900)",
    )
    fetching.add_argument("--poll", type=SECONDS, default=5, metavar="SECONDS", help="--wait polls this often (5)")
    fetching.add_argument("--out", metavar="DIR", help="save the result JSONs here, mirroring their keys")
    fetching.add_argument(
        "--check",
        action="store_true",
        help="check each result JSON against the published result.schema.json, name what is wrong, exit 1 if any",
    )
    fetching.add_argument(
        "--format",
        choices=["table", "json", "csv"],
        default="table",
        help="table (default), json (a list of {image, status, result}) or csv (a row per label)",
    )
    fetching.set_defaults(func=results_command)


def _bucket_options(parser: argparse.ArgumentParser) -> None:
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--stack",
        default=DEFAULT_STACK_NAME,
        help=f"read the bucket and prefixes from this stack's outputs (default {DEFAULT_STACK_NAME})",
    )
    where.add_argument("--bucket", help="the bucket, instead of a stack (the pipeline's or the local one)")
    parser.add_argument(
        "--prefix",
        help="where the images go or are listed (default: the stack's UploadPrefix, or test_images/ with --bucket)",
    )


def _transfer_location(args: argparse.Namespace):
    """The bucket and prefixes from the stack's outputs, or as given with --bucket."""
    from customlabels.operations import transfer
    from customlabels.operations.stack_outputs import stack_outputs

    if args.bucket:
        upload_prefix = args.prefix or "test_images/"
        return transfer.Location(
            args.bucket,
            upload_prefix,
            getattr(args, "results_prefix", None) or upload_prefix,
            getattr(args, "dead_letter_queue_url", None),
        ), False
    return transfer.stack_location(stack_outputs(aws_client("cloudformation"), args.stack), args.stack), True


def _check_prefix(prefix: str, location, from_stack: bool) -> None:
    """A stack's pipeline sees only keys under its upload prefix (with --bucket, --prefix defines it)."""
    if from_stack and not prefix.startswith(location.upload_prefix):
        raise CommandError(
            f"--prefix {prefix}: the pipeline only processes images under {location.upload_prefix}; "
            f"use a prefix that starts with it, such as {location.upload_prefix}batch-1/"
        )


def _never_answered(s3, location, prefix: str, from_stack: bool) -> tuple[str, bool] | None:
    """With --bucket, why images under `prefix` would never get a result, by the bucket's own notification
    configuration (a stack's outputs said it already: _check_prefix), and whether that bucket notifies the pipeline
    of other prefixes (so `prefix` is surely a mistake); None when they would be answered, or it cannot be told."""
    from customlabels.operations import transfer

    if from_stack:
        return None
    prefixes = transfer.notified_prefixes(s3, location.bucket)
    if prefixes is None or any(prefix.startswith(notified) for notified in prefixes):
        return None
    if not prefixes:
        return (
            f"s3://{location.bucket} notifies nothing when an object is created, so no result will come for "
            f"images under {prefix}. Fix: use the pipeline's bucket (--stack reads it from the stack's outputs)",
            False,
        )
    return (
        f"--prefix {prefix}: s3://{location.bucket} sends the pipeline only the new images under "
        f"{', '.join(prefixes)}, so images under {prefix} would never get a result. Fix: a --prefix under it, "
        f"such as --prefix {prefixes[0]}batch-1/",
        True,
    )


def upload_command(args: argparse.Namespace) -> int:
    from customlabels.operations import transfer

    folder = input_folder("", args.folder, "give the folder that holds the images")
    location, from_stack = _transfer_location(args)
    prefix = _folder_prefix(args.prefix if args.prefix is not None else location.upload_prefix)
    _check_prefix(prefix, location, from_stack)
    try:
        with console.status(f"Checking the files under {folder}..."):
            uploads, skipped = transfer.plan_upload(folder, prefix, location.result_key, args.include_outputs)
    except KeyboardInterrupt:
        console.print("[yellow]Interrupted[/] while checking the files: nothing was sent")
        return 130
    drawn = [item for item in skipped if item.drawn]
    skipped = [item for item in skipped if not item.drawn]
    _print_left_out(folder, drawn, skipped)
    if not uploads:
        raise CommandError(_nothing_to_upload(folder, drawn, skipped))
    s3 = aws_client("s3")
    never, surely_wrong = _never_answered(s3, location, prefix, from_stack) or (None, False)
    if surely_wrong:
        raise CommandError(never)
    try:
        failures = _upload_with_progress(s3, location.bucket, uploads, args.workers)
    except transfer.UploadInterrupted as stop:
        _print_interrupted(stop, folder, location.bucket, prefix)
        return 130
    kinds = {type(error) for error in failures.values()}
    if len(failures) == len(uploads) and len(kinds) == 1:
        raise next(iter(failures.values()))  # one cause for every file (no credentials, no bucket): said once
    _print_failures(failures, location.bucket)
    uploaded = len(uploads) - len(failures)
    console.print(
        f"Uploaded {uploaded} image(s) to s3://{location.bucket}/{prefix}"
        + (f"; {len(skipped)} skipped" if skipped else "")
        + (f"; {len(drawn)} drawn picture(s) left out" if drawn else "")
        + (f"; {len(failures)} failed" if failures else ""),
        soft_wrap=True,
    )
    if uploaded and never:
        console.print(f"[yellow]{never}[/]", soft_wrap=True)
    elif uploaded:
        where = f"--stack {args.stack}" if from_stack else f"--bucket {location.bucket}"
        console.print(f"Follow their results: customlabels results {where} --prefix {prefix} --wait", soft_wrap=True)
    return 1 if failures else 0


def _folder_prefix(prefix: str) -> str:
    """The prefix as a folder (`batch-1` -> `batch-1/`): the images keep their paths below it."""
    return prefix + "/" if prefix and not prefix.endswith("/") else prefix


def _print_failures(failures: dict, bucket: str) -> None:
    for item, error in sorted(failures.items(), key=lambda pair: pair[0].key):
        console.print(
            f"[red]failed[/]: {shown(item.path)} -> {shown(f's3://{bucket}/{item.key}')}: {shown(error)}",
            soft_wrap=True,
        )


def _print_left_out(folder: Path, drawn: list, skipped: list) -> None:
    """The pictures customlabels drew, in one line, and the files that are not sent, each with why and the fix."""
    if drawn:
        console.print(
            f"[yellow]Left out {len(drawn)} picture(s) that customlabels drew[/] (visualize, evaluate --report; "
            f"e.g. {shown(str(drawn[0].path.relative_to(folder)))}): each would be a billed model call. "
            "--include-outputs sends them too",
            soft_wrap=True,
        )
    if skipped:
        table = Table(title=f"Skipped {len(skipped)} file(s): not sent", title_style="yellow")
        table.add_column("file", overflow="fold")
        table.add_column("why, and the fix", overflow="fold")
        for item in skipped:
            table.add_row(shown(item.path.relative_to(folder)), shown(item.reason))
        console.print(table)


def _nothing_to_upload(folder: Path, drawn: list, skipped: list) -> str:
    if skipped:
        return (
            f"{folder}: nothing to upload: no file there is a JPEG or PNG image with a name the "
            "pipeline picks up (see the table above)"
        )
    return (
        f"{folder}: only pictures customlabels drew; --include-outputs sends them" if drawn else f"{folder}: no files"
    )


def _upload_with_progress(s3, bucket: str, uploads: list, workers: int) -> dict:
    """transfer.upload with a progress bar; the files that failed, each with its error."""
    from customlabels.operations import transfer

    with Progress(
        TextColumn("Uploading"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("upload", total=len(uploads))
        return transfer.upload(s3, bucket, uploads, workers, on_sent=lambda _item: progress.advance(task))


NOT_SENT_LISTED = 50


def _print_interrupted(stop, folder: Path, bucket: str, prefix: str) -> None:
    """What Ctrl-C left: how many were sent, and which files were not (the first NOT_SENT_LISTED)."""
    total = len(stop.sent) + len(stop.not_sent)
    console.print(
        f"[yellow]Interrupted[/]: sent {len(stop.sent)} of {total} image(s) to s3://{bucket}/{prefix}; "
        f"not sent ({len(stop.not_sent)}):",
        soft_wrap=True,
    )
    for item in stop.not_sent[:NOT_SENT_LISTED]:
        console.print(f"  {shown(str(item.path.relative_to(folder)))}", soft_wrap=True, highlight=False)
    if len(stop.not_sent) > NOT_SENT_LISTED:
        console.print(f"  and {len(stop.not_sent) - NOT_SENT_LISTED} more", soft_wrap=True)


def results_command(args: argparse.Namespace) -> int:
    from customlabels.operations import transfer

    if args.out:
        output_folder("--out", args.out)
    location, from_stack = _transfer_location(args)
    prefix = args.prefix or location.upload_prefix
    _check_prefix(prefix, location, from_stack)
    s3 = aws_client("s3")
    sqs = aws_client("sqs") if location.dead_letter_queue_url else None
    if args.wait and (never := _never_answered(s3, location, prefix, from_stack)):
        raise CommandError(f"--wait would wait for results that never come: {never[0]}")
    keys = transfer.image_keys(s3, location, prefix)
    if not keys:
        raise CommandError(f"s3://{location.bucket}/{prefix}: no images; upload some with customlabels upload")
    statuses = _follow_with_progress(s3, sqs, location, keys, args)
    not_saved = _save_results(Path(args.out), location, statuses) if args.out else []
    _print_results(statuses, args.format)
    counts = {name: sum(item.status == name for item in statuses) for name in transfer.STATUSES}
    _print_counts(counts, len(statuses), args.out)
    print_not_saved(not_saved, error_console)
    unfinished = counts["pending"] + counts["dead-letter"]
    broken = print_schema_check(statuses, location.result_key) if args.check else 0
    return 1 if (args.wait and unfinished) or not_saved or broken else 0


def _follow_with_progress(s3, sqs, location, keys: list[str], args: argparse.Namespace) -> list:
    """Each image's status (transfer.follow), with a progress bar on stderr that stays when --wait follows them."""
    from customlabels.operations import transfer

    with Progress(
        TextColumn("Results"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=error_console,
        transient=not args.wait,
    ) as progress:
        task = progress.add_task("results", total=len(keys))
        return transfer.follow(
            s3,
            location,
            keys,
            sqs=sqs,
            wait=args.wait,
            timeout=args.timeout,
            poll=args.poll,
            on_progress=lambda done, total: progress.update(task, completed=done, total=total),
        )


def _save_results(out: Path, location, statuses: list) -> list:
    """--out: each result JSON at its key's path; the keys that could not be saved (customlabels.outputs)."""
    from customlabels.operations import transfer
    from customlabels.outputs import KeyFolder

    not_saved = []
    saved = KeyFolder(out, on_not_saved=not_saved.append)
    for item in statuses:
        if item.result is not None:
            transfer.save_result(saved, location.result_key(item.key), item.result)
    return not_saved


def _print_results(statuses: list, form: str) -> None:
    """On stdout, as --format says: JSON, CSV (a row per label) or a table."""
    import csv

    from customlabels.operations import transfer

    if form == "json":
        print(json.dumps(transfer.to_json(statuses), indent=2, ensure_ascii=False))
    elif form == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow(transfer.CSV_COLUMNS)
        writer.writerows(transfer.csv_rows(statuses))
    else:
        _print_statuses(statuses)


def _print_counts(counts: dict[str, int], total: int, out: str | None) -> None:
    """How many images of each status, on stderr (stdout holds the results), and what to do for the DLQ's."""
    error_console.print(
        f"{total} image(s): "
        + ", ".join(f"{count} {STATUS_WORDS[name]}" for name, count in counts.items() if count)
        + (f"; result JSONs in {out}/" if out else ""),
        soft_wrap=True,
    )
    if counts["dead-letter"]:
        error_console.print(
            "Images in the dead-letter queue: see why with `customlabels dlq list`, fix it, then "
            "`customlabels dlq redrive`."
        )


def _print_statuses(statuses) -> None:
    table = Table(title="Results")
    table.add_column("image", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("labels (confidence)", overflow="fold")
    colours = {
        "labels": "green",
        "nothing": "white",
        "error": "yellow",
        "unreadable": "red",
        "pending": "cyan",
        "dead-letter": "red",
    }
    for item in statuses:
        error = (item.result or {}).get("Error")
        text = (
            shown(item.problem)
            if item.problem
            else shown(f"{error.get('Code')}: {error.get('Message', '')}")
            if error
            else labels_text(item.result)
        )
        table.add_row(shown(item.key), f"[{colours[item.status]}]{item.status}[/]", text)
    console.print(table)
