"""moto's behaviour mended where it differs from AWS in a way the local twin would show: each patch names the
difference, the issue or measurement that found it, and what AWS does. `apply()` installs them all, once.

- SQS: ReceiveMessage takes one receiver at a time, so two pollers never both take a new message.
- SQS: the retention check reads one attribute, not every attribute (which counted the queue's messages).
- S3: a key over 1,024 bytes of UTF-8 is refused on every write, as S3 refuses it.
- The server's routes match any character of a key, a line feed too.
- EventBridge: `wildcard`'s `*` matches across line feeds.
- EventBridge: an event a rule delivers carries its `account`.
"""

from __future__ import annotations

import functools
import threading
import time
from typing import Any

from moto.core.utils import unix_time
from moto.events.models import EventPattern
from moto.events.utils import EventTemplateParser
from moto.moto_server import werkzeug_app
from moto.moto_server.utilities import RegexConverter
from moto.s3.exceptions import S3ClientError
from moto.s3.responses import S3Response
from moto.sqs.models import SQSBackend

from customlabels_runtime.contract import KEY_TOO_LONG, MAX_KEY_BYTES

_RECEIVE_LOCK = threading.Lock()


def _one_receiver_at_a_time(receive):
    """moto's ReceiveMessage checks that a message is visible and then marks it received, without a lock; a
    SendMessage wakes every long poll at once, so two pollers can both take the new message, a second delivery
    within the visibility timeout (getmoto/moto#519, still so in moto 5.2; a flake hunt saw it). The pipeline
    tolerates duplicates (SQS is at-least-once), but in the local twin a duplicate must come from a plan, as
    every fault does, never from thread timing. So each pass over the queue runs under one lock, and the long
    poll waits outside it, as moto's own loop does."""

    @functools.wraps(receive)
    def receive_message(self, queue_name, count, wait_seconds_timeout, visibility_timeout, *args, **kwargs):
        deadline = time.monotonic() + (wait_seconds_timeout or 0)
        while True:
            with _RECEIVE_LOCK:
                messages = receive(self, queue_name, count, 0, visibility_timeout, *args, **kwargs)
            left = deadline - time.monotonic()
            if messages or left <= 0:
                return messages
            self.get_queue(queue_name).wait_for_messages(min(1.0, left))

    receive_message.one_at_a_time = True
    return receive_message


_WIDENED_ROUTES = {".+": r"[\s\S]+", "/.*": r"/[\s\S]*"}


class _AnyCharacterRoute(RegexConverter):
    """moto's server routes an object request by the regex `.+` over the decoded path, and `.` does not match a
    newline: a key with a line break in it (legal in S3, and a legal file name) was answered 404 to every request,
    so `local run` failed with "AWS refused PutObject: 404" (issue 27). The same routes, matching every character."""

    def __init__(self, url_map: Any, *items: Any) -> None:
        super().__init__(url_map, *items)
        self.regex = _WIDENED_ROUTES.get(self.regex, self.regex)


class KeyTooLongError(S3ClientError):
    """S3's answer to a write naming a key over its limit (contract.KEY_TOO_LONG, 400, "Your key is too long.")."""

    code = KEY_TOO_LONG

    def __init__(self) -> None:
        super().__init__(KEY_TOO_LONG, "Your key is too long.")


def _keys_at_most_s3s_length(key_response):
    """moto stores keys of any length; S3 refuses to create one over MAX_KEY_BYTES of UTF-8 ("a maximum length of
    1,024 bytes", Naming Amazon S3 objects). Every write of an object (PUT, copy, multipart) is refused the same way
    here; reads are left to moto (no such key can exist)."""

    @functools.wraps(key_response)
    def _key_response(self, request, full_url):
        if request.method in ("PUT", "POST") and len(self.parse_key_name().encode("utf-8")) > MAX_KEY_BYTES:
            raise KeyTooLongError()
        return key_response(self, request, full_url)

    _key_response.s3_key_length = True
    return _key_response


_LINE_FEED_STAND_IN = "\ue000"  # a private-use character: no file name or key prefix holds one in practice


def _wildcard_across_lines(wildcard_match):
    """moto's EventBridge `wildcard` turns `*` into the regex `.*`, which stops at a line feed, so the model
    manager's upload rule never fired for an image whose name holds one (EventBridge's `*` is any characters).
    The same match, with each line feed of the value and the pattern standing in as one other character."""

    @functools.wraps(wildcard_match)
    def match(item: Any, pattern: str) -> bool:
        if isinstance(item, str) and "\n" in item:
            item, pattern = item.replace("\n", _LINE_FEED_STAND_IN), pattern.replace("\n", _LINE_FEED_STAND_IN)
        return wildcard_match(item, pattern)

    match.across_lines = True
    return staticmethod(match)


MOTO_RETENTION_CHECK = SQSBackend.is_message_valid_based_on_retention_period
"""moto's own rule, which `within_retention` replaces (kept for the test that the two agree)."""


def within_retention(self, queue_name, message) -> bool:
    """moto's own check reads the retention period by computing every attribute of the queue, three of which count
    its messages: a receive from a queue of n messages cost O(n) per message received, 0.4 s for a batch of 10 from
    400 (the pause between two invocations of the local twin; SQS answers in milliseconds at any depth). The same
    rule, reading the one attribute."""
    return int(self.get_queue(queue_name).message_retention_period) + message.sent_timestamp / 1000 > unix_time()


MOTO_EVENT_TEMPLATE = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
"""moto's own template of a delivered event, which `deliver_events_with_their_account` replaces (kept for its test)."""


def deliver_events_with_their_account() -> None:
    """moto fills an event's `account` but its template for a target without an input transformer leaves it out,
    so a rule's queue received events without one; AWS's events always carry it ("Amazon EventBridge events": every
    event has version, id, detail-type, source, account, time, region, resources, detail), and event.schema.json
    requires it (issue 31). The same template, with the account."""
    if '"account"' not in MOTO_EVENT_TEMPLATE:
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = MOTO_EVENT_TEMPLATE.replace(
            '"version": "0",', '"version": "0", "account": "<account>",'
        )


def apply() -> None:
    """Install every patch (again: nothing changes)."""
    if not getattr(SQSBackend.receive_message, "one_at_a_time", False):
        SQSBackend.receive_message = _one_receiver_at_a_time(SQSBackend.receive_message)
    if not getattr(S3Response._key_response, "s3_key_length", False):
        S3Response._key_response = _keys_at_most_s3s_length(S3Response._key_response)
    werkzeug_app.RegexConverter = _AnyCharacterRoute
    if not getattr(EventPattern._wildcard_match, "across_lines", False):
        EventPattern._wildcard_match = _wildcard_across_lines(EventPattern._wildcard_match)
    SQSBackend.is_message_valid_based_on_retention_period = within_retention
    deliver_events_with_their_account()
