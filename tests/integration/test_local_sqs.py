"""The local twin's SQS hands a message to one receiver at a time, as SQS does within its visibility timeout.
moto's own ReceiveMessage lets two concurrent pollers take the same message (customlabels.local.aws), which a
flake hunt saw as an image called twice with no failure to explain it."""

import threading
import time

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from moto.sqs.models import Message, Queue, SQSBackend

from customlabels.local.aws import client, start_moto
from customlabels.local.moto_patches import MOTO_RETENTION_CHECK, within_retention

pytestmark = pytest.mark.integration


@pytest.fixture
def sqs_queue():
    server, endpoint = start_moto()
    try:
        sqs = client("sqs", endpoint, "eu-west-1")
        yield endpoint, sqs.create_queue(QueueName="work", Attributes={"VisibilityTimeout": "300"})["QueueUrl"]
    finally:
        server.stop()


def receive_together(endpoint: str, url: str, receivers: int, wait_seconds: int = 0, most: int = 10):
    """Each receiver with its own client, released at the same instant: their threads, and the list every message
    any of them gets is added to."""
    released = threading.Barrier(receivers)
    received: list[dict] = []

    def receive() -> None:
        own = client("sqs", endpoint, "eu-west-1")
        released.wait()
        received.extend(
            own.receive_message(QueueUrl=url, MaxNumberOfMessages=most, WaitTimeSeconds=wait_seconds).get(
                "Messages", []
            )
        )

    threads = [threading.Thread(target=receive) for _ in range(receivers)]
    for thread in threads:
        thread.start()
    return threads, received


def test_two_receivers_at_the_same_instant_never_both_take_one_message(sqs_queue, monkeypatch):
    """moto checks a message's visibility, then marks it received; the gap between the two is widened to 0.3 s
    here, so that without the twin's lock both receivers would find the message visible (and this test fails)."""
    marking = Message.mark_received

    def slow_mark(self, visibility_timeout=None):
        time.sleep(0.3)
        marking(self, visibility_timeout)

    monkeypatch.setattr(Message, "mark_received", slow_mark)
    endpoint, url = sqs_queue
    client("sqs", endpoint, "eu-west-1").send_message(QueueUrl=url, MessageBody="one image")
    threads, received = receive_together(endpoint, url, receivers=2)
    for thread in threads:
        thread.join()
    assert [message["Body"] for message in received] == ["one image"]


def test_long_polls_still_wake_for_messages_sent_while_they_wait_each_taken_once(sqs_queue):
    """Waiting happens outside the lock: three pollers (one message each) waiting when three messages arrive get
    one each, every message once. (A poller that had not started waiting yet finds its message at once.)"""
    endpoint, url = sqs_queue
    threads, received = receive_together(endpoint, url, receivers=3, wait_seconds=20, most=1)
    sender = client("sqs", endpoint, "eu-west-1")
    for index in range(3):
        sender.send_message(QueueUrl=url, MessageBody=f"image {index}")
    for thread in threads:
        thread.join()
    assert sorted(message["Body"] for message in received) == ["image 0", "image 1", "image 2"]


def test_a_receive_from_a_deep_queue_does_not_count_the_queue_for_each_message(sqs_queue, monkeypatch):
    """moto checked each received message's retention period by computing every attribute of the queue, three of
    which count its messages: 0.4 s for a batch of 10 from 400, the pause between two invocations of the twin. The
    twin reads the one attribute: a receive computes no attribute set at all."""
    endpoint, url = sqs_queue
    sqs = client("sqs", endpoint, "eu-west-1")
    for start in range(0, 200, 10):
        sqs.send_message_batch(
            QueueUrl=url, Entries=[{"Id": str(i), "MessageBody": f"image {start + i}"} for i in range(10)]
        )
    computed = []
    attributes = Queue.attributes
    monkeypatch.setattr(Queue, "attributes", property(lambda queue: computed.append(1) or attributes.fget(queue)))
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, MessageSystemAttributeNames=["All"])
    assert len(received["Messages"]) == 10
    assert computed == []


@settings(max_examples=60, deadline=None)
@given(retention=st.integers(60, 1_209_600), age=st.integers(0, 1_300_000))
def test_the_twins_retention_rule_is_motos(retention, age):
    """The same answer as moto's own check for any retention period and message age (in seconds; not within a
    second of the boundary, where the two checks' own clock readings could straddle it)."""
    assume(abs(age - retention) > 1)
    backend = SQSBackend("eu-west-1", "123456789012")
    backend.create_queue("work", MessageRetentionPeriod=str(retention))
    message = Message("id", "body")
    message.sent_timestamp = int((time.time() - age) * 1000)
    assert (
        within_retention(backend, "work", message)
        == MOTO_RETENTION_CHECK(backend, "work", message)
        == (age < retention)
    )
