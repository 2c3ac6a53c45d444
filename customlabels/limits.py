"""What Amazon Rekognition accepts as an image (its documented limits): the emulator enforces them, and `upload`
checks them before sending, so that neither operations nor the local twin borrows them from the other."""

MAX_S3_IMAGE_BYTES = 15 * 1024 * 1024
MAX_INLINE_IMAGE_BYTES = 4 * 1024 * 1024
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_ASPECT_RATIO = 20
"""Longer side over shorter side, at most 20:1 (the Custom Labels limits page, Detection)."""
