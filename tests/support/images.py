"""Test images: one builder with options, a writer that names the format by the suffix, and a decompression bomb
(which Pillow cannot build in a small file, so it is written chunk by chunk)."""

import io
import struct
import zlib
from pathlib import Path

from PIL import Image

YELLOW = (200, 180, 40)


def image_bytes(fmt: str = "JPEG", size: tuple[int, int] = (320, 240), colour=YELLOW) -> bytes:
    """A plain picture of `size` as `fmt` bytes. "MPO" is a JPEG carrying a second embedded image, as phones write
    them (Pillow calls the format MPO)."""
    buffer = io.BytesIO()
    picture = Image.new("RGB", size, colour)
    if fmt == "MPO":
        picture.save(buffer, fmt, save_all=True, append_images=[Image.new("RGB", size, (40, 80, 200))])
    else:
        picture.save(buffer, fmt)
    return buffer.getvalue()


def write_image(path: Path, size: tuple[int, int] = (320, 240), fmt: str | None = None, colour=YELLOW) -> Path:
    """`image_bytes` at `path` (its folders made), in the format its suffix names unless `fmt` says another."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(fmt or Image.registered_extensions()[path.suffix.lower()], size, colour))
    return path


def huge_png(width: int = 20000, height: int = 20000) -> bytes:
    """A valid 1-bit PNG of `width` x `height` in a small file (tens of kB): a decompression bomb to Pillow."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    compressor = zlib.compressobj(9)
    row = b"\0" * (1 + (width + 7) // 8)
    pixels = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0))
        + chunk(b"IDAT", pixels)
        + chunk(b"IEND", b"")
    )
