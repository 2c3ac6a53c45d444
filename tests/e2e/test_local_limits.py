"""Through the local pipeline, images over every documented limit: each ends as exactly one result, an Error
result for input that can never succeed, and none reaches the DLQ (only transient faults after every retry may)."""

import io

import pytest
from PIL import Image

from customlabels.local.emulator.options import ModelOptions
from customlabels.local.pipeline import LocalPipeline, load_config
from support.images import huge_png, image_bytes

pytestmark = pytest.mark.e2e


def one_bit_png(size):
    """A PNG of any size that stays small and quick to encode."""
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, "PNG")
    return buffer.getvalue()


def images():
    """Name -> (content, expected outcome); built when the test runs, not when pytest collects."""
    return {
        "fine.jpg": (image_bytes(), "nothing"),  # accepted: the emulated model (no manifest) detects nothing
        "phone.jpg": (image_bytes("MPO"), "nothing"),  # a JPEG with an embedded second image
        "edge.png": (one_bit_png((64, 1280)), "nothing"),  # 20:1 exactly
        "over-15-mb.jpg": (b"\xff\xd8\xff\xe0" + bytes(15 * 1024 * 1024), "error:ImageTooLargeException"),
        "side-under-64.png": (image_bytes("PNG", (63, 200)), "error:InvalidParameterException"),
        "side-over-4096.png": (one_bit_png((4097, 300)), "error:InvalidParameterException"),
        "over-20-to-1.png": (one_bit_png((64, 1300)), "error:InvalidParameterException"),
        "decompression-bomb.png": (huge_png(), "error:InvalidParameterException"),
        "gif-named.jpg": (image_bytes("GIF"), "error:InvalidImageFormatException"),
        "truncated.jpg": (image_bytes()[:300], "error:InvalidImageFormatException"),
    }


def test_every_image_over_a_documented_limit_ends_as_exactly_one_error_result():
    config = load_config(model_lifecycle="manual")
    expected = images()
    keys = [config.input_prefix + name for name in expected]
    # The visibility timeout outlasts any batch on a loaded machine: a copy delivered because an invocation ran
    # long (SQS delivers at least once) would add a call that no failed record asked for (a flake hunt saw one).
    with LocalPipeline(
        config, model=ModelOptions(running=True, tps_per_inference_unit=1000), visibility_timeout=300
    ) as pipeline:
        for key, (body, _) in zip(keys, expected.values(), strict=True):
            pipeline.upload(key, body)
        outcomes = pipeline.wait(keys, timeout=300)
        results = sorted(key for key in pipeline.result_keys() if key.endswith(".json"))
        dead_letters = pipeline.dead_letter_keys()
        calls = dict(pipeline.service.image_calls)
    failed_records = sum(invocation.failed for invocation in pipeline.esm.invocations)  # all, once stopped
    assert outcomes == {key: outcome for key, (_, outcome) in zip(keys, expected.values(), strict=True)}
    assert results == sorted(pipeline.result_key_for(key) for key in keys)
    assert dead_letters == set()
    assert failed_records == 0, "an image that can never succeed failed its record: SQS would retry it"
    assert calls == dict.fromkeys(keys, 1), "an image that can never succeed was retried"
