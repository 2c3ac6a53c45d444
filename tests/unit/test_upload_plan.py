"""`customlabels upload`'s plan: each file checked by content, size and name before anything is sent."""

import pytest

from customlabels.operations import transfer
from support.images import huge_png, image_bytes, write_image

pytestmark = pytest.mark.unit


def test_upload_plan_checks_content_size_and_names(folder):
    uploads, skipped = transfer.plan_upload(folder, "test_images/batch/")
    assert [(u.key, u.content_type) for u in uploads] == [
        ("test_images/batch/bee.jpg", "image/jpeg"),
        ("test_images/batch/disguised.jpg", "image/png"),
        ("test_images/batch/meadow/flower 1.png", "image/png"),
    ]
    reasons = {s.path.name: s.reason for s in skipped}
    assert reasons.keys() == {"notes.jpg", "anim.gif", "tiny.png", "huge.png", "photo.dat", "big.jpg", "mixed.Jpg"}
    assert reasons["notes.jpg"].startswith("not an image by its content")
    assert reasons["anim.gif"] == "a GIF image; Rekognition takes JPEG or PNG: convert it"
    assert reasons["tiny.png"] == "32 x 32 px; Rekognition takes 64-4096 px per side: resize it"
    assert reasons["huge.png"].startswith("4100 x 64 px")
    assert reasons["photo.dat"] == (
        "a JPEG by content, but the pipeline only picks up names ending .jpg, .jpeg, .png, .JPG, .JPEG, .PNG: rename it"
    )
    assert reasons["mixed.Jpg"].endswith("(S3's notification filters are case-sensitive): rename it to mixed.jpg")
    assert reasons["big.jpg"].startswith("15.0 MB; Rekognition takes at most 15 MB")


def test_upload_plan_takes_a_jpeg_with_an_embedded_image_and_refuses_over_20_to_1_and_decompression_bombs(tmp_path):
    (tmp_path / "phone.jpg").write_bytes(image_bytes("MPO"))
    write_image(tmp_path / "edge.png", size=(64, 1280))
    write_image(tmp_path / "strip.png", size=(64, 1300))
    (tmp_path / "bomb.png").write_bytes(huge_png())
    uploads, skipped = transfer.plan_upload(tmp_path, "test_images/")
    assert [(u.key, u.content_type) for u in uploads] == [
        ("test_images/edge.png", "image/png"),
        ("test_images/phone.jpg", "image/jpeg"),
    ]
    reasons = {s.path.name: s.reason for s in skipped}
    assert reasons == {
        "strip.png": "64 x 1300 px is longer than 20:1, the most Rekognition takes: crop it",
        "bomb.png": "declares a picture far over 4096 x 4096 px; Rekognition refuses it: resize it",
    }
