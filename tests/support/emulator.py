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


def labels_line(key, *labels, bucket="images"):
    """A Ground Truth multi-label classification line of the image `key` (no label: a line without labels)."""
    import json

    classes = sorted(set(labels))
    return json.dumps(
        {
            "source-ref": f"s3://{bucket}/{key}",
            "labels": [classes.index(label) for label in labels],
            "labels-metadata": {
                "class-map": {str(i): name for i, name in enumerate(classes)},
                "type": "groundtruth/image-classification-multilabel",
                "human-annotated": "yes",
                "creation-date": "2026-12-01T00:00:00",
                "job-name": "customlabels-test",
            },
        }
    )


def manifest_text(*lines):
    return "".join(f"{line}\n" for line in lines)


class Bucket:
    """S3 as the emulator reads and writes it (its `read_s3_object` and `write_s3_object`); a bucket named in
    `refusing` refuses every write, as a bucket the caller may not write to."""

    def __init__(self, refusing=()):
        self.objects = {}
        self.refusing = set(refusing)

    def read(self, bucket, key, _version=None):
        return self.objects[(bucket, key)]

    def write(self, bucket, key, body):
        if bucket in self.refusing:
            raise OSError(f"AccessDenied: s3://{bucket}/{key}")
        self.objects[(bucket, key)] = body

    def json(self, bucket, key):
        import json

        return json.loads(self.objects[(bucket, key)])
