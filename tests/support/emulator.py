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


class Calls:
    """Every AWS call a command's clients make: (service, operation, params), from botocore's before-parameter-build
    event; and what the emulated training read and wrote in S3 on the caller's behalf ("s3", GetObject/PutObject)."""

    def __init__(self):
        self.made = []

    def __call__(self, model, params, **_):
        self.made.append((model.service_model.endpoint_prefix, model.name, params))


def emulated_training(monkeypatch, tmp_path, bucket, region, delay=1800.0):
    """moto's S3 holding `bucket`, the emulator (behind HTTP, on a manual clock) reading and writing it, its endpoint
    in the environment the CLI's clients read, a training manifest of 20 images; yields `run(*argv, sleep=...)`,
    which runs `customlabels model train ARGV` on the emulator's clock, with the service, S3, the manifest and the
    calls made. A generator: the caller's fixture yields its first value, then exhausts it."""
    import boto3
    from moto import mock_aws

    from customlabels.cli import build_parser
    from customlabels.cli.model_train import train_command
    from customlabels.local.emulator.clock import ManualClock
    from customlabels.local.emulator.rekognition import CustomLabelsService
    from customlabels.local.emulator.server import serve
    from customlabels.local.emulator.training import TrainingSettings

    with mock_aws():
        monkeypatch.setenv("AWS_DEFAULT_REGION", region)
        s3 = boto3.client("s3", region_name=region)
        location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
        s3.create_bucket(Bucket=bucket, **location)
        clock, calls = ManualClock(1_764_000_000.0), Calls()

        def read(bucket, key, _version):
            calls.made.append(("s3", "GetObject", {"Bucket": bucket, "Key": key}))
            return s3.get_object(Bucket=bucket, Key=key)["Body"].read()

        def write(bucket, key, body):
            calls.made.append(("s3", "PutObject", {"Bucket": bucket, "Key": key}))
            try:
                s3.put_object(Bucket=bucket, Key=key, Body=body)
            except s3.exceptions.ClientError as error:
                raise OSError(str(error)) from None

        service = CustomLabelsService(
            read_s3_object=read,
            clock=clock,
            sleep=clock.sleep,
            training=TrainingSettings(delay=delay, write_s3_object=write, wall_clock=clock, region=region),
        )
        server = serve(service)
        monkeypatch.setenv("AWS_ENDPOINT_URL_REKOGNITION", f"http://127.0.0.1:{server.server_address[1]}")
        manifest = tmp_path / "train.manifest"
        kinds = ("bee", "wasp")
        manifest.write_text(
            manifest_text(*(labels_line(f"test_images/{n}.jpg", kinds[n % 2], bucket=bucket) for n in range(20)))
        )
        boto3.setup_default_session()
        boto3.DEFAULT_SESSION.events.register("before-parameter-build", calls)

        def run(*argv, sleep=clock.sleep):
            args = build_parser().parse_args(["model", "train", *map(str, argv)])
            return train_command(args, clock=clock, sleep=sleep)

        yield run, service, s3, manifest, calls
        server.shutdown()
