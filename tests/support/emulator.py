"""For tests of the Rekognition emulator: the operations it serves and a backend that sees fixed labels."""

OPERATIONS = (
    "DetectCustomLabels",
    "DescribeProjects",
    "DescribeProjectVersions",
    "StartProjectVersion",
    "StopProjectVersion",
)
"""The Rekognition operations the emulator serves, named here rather than read from it."""

SEEN = [
    {"Name": "bee", "Confidence": 91.0},
    {"Name": "flower", "Confidence": 62.0},
    {"Name": "wasp", "Confidence": 45.0},
]


class Sees:
    """A model backend that sees `labels` in every image."""

    def __init__(self, labels):
        self.labels = labels

    def detect(self, key, width, height):
        return [dict(label) for label in self.labels]
