"""`customlabels dlq list|redrive`: the images that failed every retry, and sending them back."""

from __future__ import annotations

import argparse

from rich.progress import MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from customlabels.cli.common import aws_client, console, stack_option
from customlabels.config import DLQ_RETENTION_DAYS
from customlabels.errors import CommandError
from customlabels.escaping import shown


def register(commands: argparse._SubParsersAction) -> None:
    dead_letters = commands.add_parser(
        "dlq",
        help="list or redrive the images that failed every retry",
        description="list: the images whose messages sit in the dead-letter queue (left in place). redrive: move "
        "them all back to the work queue once the cause is fixed. Queues come from the stack's outputs "
        "(--stack) or are given; for the local stack, use the URLs and endpoint `local serve` prints.",
    )
    dead_letters.add_argument("action", choices=["list", "redrive"])
    stack_option(dead_letters)
    dead_letters.add_argument("--dead-letter-queue-url", help="the DLQ's URL, instead of a stack")
    dead_letters.add_argument("--queue-url", help="the work queue's URL (redrive), instead of a stack")
    dead_letters.set_defaults(func=dlq_command)


def dlq_command(args: argparse.Namespace) -> int:
    from customlabels.operations import dlq

    if args.dead_letter_queue_url:
        queues = dlq.Queues(args.queue_url or "", args.dead_letter_queue_url)
    else:
        queues = dlq.stack_queues(aws_client("cloudformation"), args.stack)
    sqs = aws_client("sqs")
    if args.action == "list":
        letters = dlq.peek(sqs, queues.dead_letter_queue_url)
        table = Table(title=f"{len(letters)} message(s) in the dead-letter queue")
        for column in ("image", "receives", "first received", "message id"):
            table.add_column(column, overflow="fold")
        for letter in sorted(letters, key=lambda item: item.keys):
            table.add_row(  # keys and problems come from uploaders: shown as written, never as escapes or markup
                shown(letter.what),
                str(letter.receive_count),
                letter.first_received.isoformat(timespec="seconds") if letter.first_received else "-",
                shown(letter.message_id),
            )
        console.print(table)
        unreadable = sum(1 for letter in letters if letter.problem)
        if unreadable:
            console.print(
                f"{unreadable} message(s) are not S3 object-created events, so a redrive fails them again: find what "
                "sends them to the work queue (an SNS subscription, an EventBridge rule, a program) and stop it; the "
                f"DLQ drops them after its {DLQ_RETENTION_DAYS}-day retention."
            )
        if letters:
            console.print(
                "Fix the cause (the inference function's logs name it per image), then: customlabels dlq redrive"
            )
        return 0
    if not queues.queue_url:
        raise CommandError("dlq redrive: pass --queue-url too (where to send the messages back), or --stack")
    with Progress(
        TextColumn("{task.description}"), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    ) as progress:
        task = progress.add_task("Moving back to the work queue", total=None)
        moved = dlq.redrive(sqs, queues, on_moved=lambda count: progress.advance(task, count))
    console.print(f"Moved {moved} message(s) back to {queues.queue_url}; they will be processed again.", soft_wrap=True)
    return 0
