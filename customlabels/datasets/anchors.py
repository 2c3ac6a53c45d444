"""The gallery's anchor of an image, so that another page (the evaluation report) can link to
`index.html#<anchor>` knowing only the image's key.

The rule (docs/results-and-gallery.md): `img-`, the file name of the key lowercased with every run of characters
other than a-z and 0-9 turned into one `-` (at most 40 characters, no `-` at either end), `-`, and the first 10
hex digits of the SHA-256 of the whole key in UTF-8. The name makes the link readable; the hash keeps two keys
apart that read the same (`a b.jpg`, `a-b.jpg`, or one name in two folders). The key is the result's
`Image.Key` (the S3 key the pipeline read) and, for an image without a result, its path under `visualize
--images`.
"""

from __future__ import annotations

import hashlib
import re


def gallery_anchor(key: str) -> str:
    """A valid HTML id and URL fragment (no character that needs escaping), the same for the same key."""
    name = re.sub(r"[^a-z0-9]+", "-", key.rsplit("/", 1)[-1].lower())[:40].strip("-")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:10]
    return f"img-{name}-{digest}" if name else f"img-{digest}"
