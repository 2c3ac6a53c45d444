"""The emulator's training held against what AWS documents and against references we did not write: every answer
fits botocore's output shapes (Stubber), the training states move on a manual clock only, each documented error is
answered with its code, the auto-split moves the documented 20%, and the evaluation summary equals scikit-learn's
precision, recall and F1 over the same answers."""

import base64
import json

import boto3
import pytest
from botocore import xform_name
from botocore.stub import Stubber
from sklearn.metrics import precision_recall_fscore_support
from sklearn.preprocessing import MultiLabelBinarizer

from customlabels.local.emulator.backends import Noise
from customlabels.local.emulator.clock import ManualClock
from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.rekognition import CustomLabelsService
from customlabels.local.emulator.trained import AUTOSPLIT, EMPTY_MANIFEST, SERVICE_ISSUE, TOO_FEW_LABELS
from customlabels.local.emulator.training import CANNOT_WRITE, TrainingSettings
from support.emulator import Bucket, labels_line, manifest_text
from support.images import image_bytes

pytestmark = pytest.mark.integration

DELAY = 3600.0
OUTPUT = {"S3Bucket": "training-output", "S3KeyPrefix": "training/"}
KINDS = ("bee", "wasp")


def service_with(bucket, clock, noise=None, **settings):
    return CustomLabelsService(
        read_s3_object=bucket.read,
        clock=clock,
        sleep=clock.sleep,
        training=TrainingSettings(
            delay=DELAY, write_s3_object=bucket.write, noise=noise or Noise(), wall_clock=clock, **settings
        ),
    )


@pytest.fixture
def world():
    clock, bucket = ManualClock(1_764_000_000.0), Bucket(refusing={"not-ours"})
    for number in range(20):
        bucket.objects[("images", f"img/{number}.jpg")] = image_bytes()
    bucket.objects[("images", "manifests/train.manifest")] = manifest_text(
        *(labels_line(f"img/{n}.jpg", KINDS[n % 2]) for n in range(20))
    ).encode()
    return service_with(bucket, clock), bucket, clock


def conforms(operation, raw):
    """botocore's Stubber refuses an answer with an unknown member, a wrong type or a missing required one."""
    with Stubber(boto3.client("rekognition", region_name="us-east-1")) as stubber:
        stubber.add_response(xform_name(operation), raw)
    return True


def project_with_datasets(service, name="bees", manifest="manifests/train.manifest", split=True):
    project = service.dispatch("CreateProject", {"ProjectName": name})["ProjectArn"]
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": manifest}}}
    train = service.dispatch("CreateDataset", {"ProjectArn": project, "DatasetType": "TRAIN", "DatasetSource": source})
    test = service.dispatch("CreateDataset", {"ProjectArn": project, "DatasetType": "TEST"})
    if split:
        service.dispatch(
            "DistributeDatasetEntries", {"Datasets": [{"Arn": train["DatasetArn"]}, {"Arn": test["DatasetArn"]}]}
        )
    return project, train["DatasetArn"], test["DatasetArn"]


def train(service, project, name="v1", **request):
    return service.dispatch(
        "CreateProjectVersion", {"ProjectArn": project, "VersionName": name, "OutputConfig": OUTPUT, **request}
    )["ProjectVersionArn"]


def described(service, project, name="v1"):
    return service.dispatch("DescribeProjectVersions", {"ProjectArn": project, "VersionNames": [name]})[
        "ProjectVersionDescriptions"
    ][0]


def error_of(call):
    with pytest.raises(ServiceError) as raised:
        call()
    return raised.value.code


# --- the states, on the clock only -------------------------------------------------------------------------------
def test_a_version_trains_for_the_delay_then_completes_with_what_describe_documents(world):
    service, bucket, clock = world
    project, *_ = project_with_datasets(service)
    arn = train(service, project)
    clock.advance(DELAY - 1)
    assert described(service, project)["Status"] == "TRAINING_IN_PROGRESS"
    with pytest.raises(ServiceError, match="cannot be started while TRAINING_IN_PROGRESS"):
        service.dispatch("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    clock.advance(1)
    done = described(service, project)
    assert done["Status"] == "TRAINING_COMPLETED"
    assert done["BillableTrainingTimeInSeconds"] == DELAY
    assert done["TrainingEndTimestamp"] == pytest.approx(done["CreationTimestamp"] + DELAY, abs=1)
    assert done["OutputConfig"] == OUTPUT
    summary = done["EvaluationResult"]["Summary"]["S3Object"]
    assert summary == {"Bucket": "training-output", "Name": "training/v1/EvaluationSummary-bees-v1.json"}
    document = bucket.json(summary["Bucket"], summary["Name"])
    assert document["EvaluationDetails"]["ProjectVersionArn"] == arn
    assert (
        document["EvaluationDetails"]["NumberOfTrainingImages"],
        document["EvaluationDetails"]["NumberOfTestingImages"],
    ) == (16, 4)
    assert done["EvaluationResult"]["F1Score"] == document["AggregatedEvaluationResults"]["Metrics"]["F1Score"]
    manifest_summary = done["ManifestSummary"]["S3Object"]
    assert (
        bucket.json(manifest_summary["Bucket"], manifest_summary["Name"])["statistics"]["training"]["total_json_lines"]
        == 16
    )
    for result in ("TrainingDataResult", "TestingDataResult"):
        snapshot = done[result]["Output"]["Assets"][0]["GroundTruthManifest"]["S3Object"]
        assert bucket.objects[(snapshot["Bucket"], snapshot["Name"])].decode().count("\n") == (
            16 if result == "TrainingDataResult" else 4
        )
    assert [status for _, status in service.models[arn].history] == ["TRAINING_IN_PROGRESS", "TRAINING_COMPLETED"]
    service.dispatch("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})  # now startable


def test_every_training_answer_fits_botocores_output_shapes(world):
    service, _, clock = world
    answers = {"CreateProject": [service.dispatch("CreateProject", {"ProjectName": "shapes"})]}
    project = answers["CreateProject"][0]["ProjectArn"]
    answers["CreateDataset"] = [
        service.dispatch("CreateDataset", {"ProjectArn": project, "DatasetType": kind}) for kind in ("TRAIN", "TEST")
    ]
    source = {"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": "manifests/train.manifest"}}}
    bees, train_arn, test_arn = project_with_datasets(service, split=False)
    answers["DistributeDatasetEntries"] = [
        service.dispatch("DistributeDatasetEntries", {"Datasets": [{"Arn": train_arn}, {"Arn": test_arn}]})
    ]
    answers["CreateProjectVersion"] = [
        service.dispatch(
            "CreateProjectVersion",
            {
                "ProjectArn": bees,
                "VersionName": name,
                "OutputConfig": OUTPUT,
                "KmsKeyId": "alias/training",
                "Tags": {"team": "bees"},
                "VersionDescription": "shapes",
            },
        )
        for name in ("v1", "v2")
    ]
    service.plan_training_failure("v2")
    answers["DescribeProjectVersions"] = [service.dispatch("DescribeProjectVersions", {"ProjectArn": bees})]
    clock.advance(DELAY)
    answers["DescribeProjectVersions"].append(service.dispatch("DescribeProjectVersions", {"ProjectArn": bees}))
    answers["DescribeProjects"] = [service.dispatch("DescribeProjects", {})]
    answers["DescribeDataset"] = [service.dispatch("DescribeDataset", {"DatasetArn": test_arn})]
    assert {d["Status"] for d in answers["DescribeProjectVersions"][1]["ProjectVersionDescriptions"]} == {
        "TRAINING_COMPLETED",
        "TRAINING_FAILED",
    }
    assert source  # the manifest the datasets were made from
    assert all(conforms(operation, raw) for operation, raws in answers.items() for raw in raws)


# --- each documented error ---------------------------------------------------------------------------------------
def test_each_documented_error_of_the_training_operations(world):
    service, _, clock = world
    project, train_arn, _test_arn = project_with_datasets(service, split=False)
    other, *_ = project_with_datasets(service, name="wasps", split=False)
    train(service, project)
    missing = {"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": "nowhere.manifest"}}}
    cases = {
        "the name in use": (
            lambda: service.dispatch("CreateProject", {"ProjectName": "bees"}),
            "ResourceInUseException",
        ),
        "a name Rekognition refuses": (
            lambda: service.dispatch("CreateProject", {"ProjectName": "my bees"}),
            "ValidationException",
        ),
        "a second TRAIN dataset": (
            lambda: service.dispatch("CreateDataset", {"ProjectArn": project, "DatasetType": "TRAIN"}),
            "ResourceAlreadyExistsException",
        ),
        "a dataset of no project": (
            lambda: service.dispatch("CreateDataset", {"ProjectArn": project + "1", "DatasetType": "TEST"}),
            "ResourceNotFoundException",
        ),
        "a manifest S3 does not have": (
            lambda: service.dispatch(
                "CreateDataset",
                {
                    "ProjectArn": service.dispatch("CreateProject", {"ProjectName": "x"})["ProjectArn"],
                    "DatasetType": "TRAIN",
                    "DatasetSource": missing,
                },
            ),
            "InvalidS3ObjectException",
        ),
        "datasets of two projects": (
            lambda: service.dispatch(
                "DistributeDatasetEntries",
                {"Datasets": [{"Arn": train_arn}, {"Arn": service.datasets.dataset_of(other, "TEST").arn}]},
            ),
            "InvalidParameterException",
        ),
        "a version name in use": (lambda: train(service, project), "ResourceInUseException"),
        "a version of no project": (lambda: train(service, project + "1", name="v9"), "ResourceNotFoundException"),
        "TrainingData to a project with datasets": (
            lambda: train(service, project, name="v3", TrainingData={"Assets": []}, TestingData={"AutoCreate": True}),
            "InvalidParameterException",
        ),
        "a version name Rekognition refuses": (lambda: train(service, project, name="v 1"), "ValidationException"),
    }
    assert {why: error_of(call) for why, (call, _) in cases.items()} == {why: code for why, (_, code) in cases.items()}
    clock.advance(DELAY)


def test_a_dataset_being_filled_is_not_ready_to_distribute_and_a_full_test_dataset_refuses(world):
    service, _bucket, clock = world
    service.datasets.update_delay = 60
    _project, train_arn, test_arn = project_with_datasets(service, split=False)
    distribute = {"Datasets": [{"Arn": train_arn}, {"Arn": test_arn}]}
    assert error_of(lambda: service.dispatch("DistributeDatasetEntries", distribute)) == "ResourceNotReadyException"
    clock.advance(60)
    service.dispatch("DistributeDatasetEntries", distribute)
    clock.advance(60)
    assert error_of(lambda: service.dispatch("DistributeDatasetEntries", distribute)) == "InvalidParameterException"


def test_a_project_without_datasets_trains_only_from_both_manifests(world):
    service, _, clock = world
    project = service.dispatch("CreateProject", {"ProjectName": "manifests"})["ProjectArn"]
    manifest = {
        "Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": "manifests/train.manifest"}}}]
    }
    assert error_of(lambda: train(service, project)) == "InvalidParameterException"
    assert error_of(lambda: train(service, project, TrainingData=manifest)) == "InvalidParameterException"
    train(service, project, TrainingData=manifest, TestingData={"AutoCreate": True})
    clock.advance(DELAY)
    done = described(service, project)
    assert done["Status"] == "TRAINING_COMPLETED"
    assert done["TestingDataResult"]["Output"]["Assets"]


# --- a training set that cannot train ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("train_lines", "test_lines", "message"),
    [
        ([], [labels_line("img/1.jpg", "bee")], EMPTY_MANIFEST[1]),
        ([labels_line(f"img/{n}.jpg", "bee", "wasp") for n in range(4)], [], EMPTY_MANIFEST[1]),
        ([labels_line(f"img/{n}.jpg") for n in range(4)], [labels_line("img/9.jpg", "bee")], TOO_FEW_LABELS[1]),
        ([labels_line(f"img/{n}.jpg", "bee") for n in range(4)], [labels_line("img/9.jpg", "bee")], TOO_FEW_LABELS[1]),
    ],
    ids=["no training images", "an empty test set", "no labels", "one label to classify"],
)
def test_a_training_set_that_cannot_train_fails_with_the_documented_message(world, train_lines, test_lines, message):
    service, bucket, clock = world
    bucket.objects[("images", "t.manifest")] = manifest_text(*train_lines).encode()
    bucket.objects[("images", "s.manifest")] = manifest_text(*test_lines).encode()
    project = service.dispatch("CreateProject", {"ProjectName": "bad"})["ProjectArn"]
    for kind, name in (("TRAIN", "t.manifest"), ("TEST", "s.manifest")):
        source = {"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": name}}}
        service.dispatch("CreateDataset", {"ProjectArn": project, "DatasetType": kind, "DatasetSource": source})
    train(service, project)
    clock.advance(DELAY)
    failed = described(service, project)
    assert (failed["Status"], failed["StatusMessage"]) == ("TRAINING_FAILED", message)
    assert "EvaluationResult" not in failed and "ManifestSummary" in failed


def test_too_few_images_of_a_label_fail_the_auto_split_as_documented(world):
    service, bucket, clock = world
    lines = [labels_line(f"img/{n}.jpg", "bee") for n in range(9)] + [labels_line("img/19.jpg", "wasp")]
    bucket.objects[("images", "few.manifest")] = manifest_text(*lines).encode()
    _project, _train_arn, test_arn = project_with_datasets(service, name="few", manifest="few.manifest")
    status = service.dispatch("DescribeDataset", {"DatasetArn": test_arn})["DatasetDescription"]
    assert (status["Status"], status["StatusMessage"]) == ("UPDATE_FAILED", AUTOSPLIT[1])
    manifests = {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": "few.manifest"}}}]}
    other = service.dispatch("CreateProject", {"ProjectName": "few-manifests"})["ProjectArn"]
    train(service, other, TrainingData=manifests, TestingData={"AutoCreate": True})
    clock.advance(DELAY)
    assert described(service, other)["StatusMessage"] == AUTOSPLIT[1]


def test_a_planned_failure_and_an_output_bucket_that_refuses_fail_the_training(world):
    service, _, clock = world
    project, *_ = project_with_datasets(service)
    service.plan_training_failure("v1")
    train(service, project)
    service.dispatch(
        "CreateProjectVersion", {"ProjectArn": project, "VersionName": "v2", "OutputConfig": {"S3Bucket": "not-ours"}}
    )
    clock.advance(DELAY)
    assert described(service, project, "v1")["StatusMessage"] == SERVICE_ISSUE
    assert described(service, project, "v2")["StatusMessage"] == CANNOT_WRITE
    assert {described(service, project, n)["Status"] for n in ("v1", "v2")} == {"TRAINING_FAILED"}


# --- the auto-split ---------------------------------------------------------------------------------------------
def test_distribute_moves_20_percent_of_the_training_images_covering_every_label(world):
    service, _, _clock = world
    _project, train_arn, test_arn = project_with_datasets(service)
    listed = {
        arn: [
            json.loads(line)["source-ref"]
            for line in service.dispatch("ListDatasetEntries", {"DatasetArn": arn})["DatasetEntries"]
        ]
        for arn in (train_arn, test_arn)
    }
    assert (len(listed[train_arn]), len(listed[test_arn])) == (16, 4)
    assert set(listed[train_arn]).isdisjoint(listed[test_arn])
    assert set(listed[train_arn]) | set(listed[test_arn]) == {f"s3://images/img/{n}.jpg" for n in range(20)}
    test_labels = {service.datasets.datasets[test_arn].labels[ref] for ref in listed[test_arn]}
    assert set().union(*test_labels) == set(KINDS)


# --- the evaluation against scikit-learn, and the answers of a trained version ----------------------------------
def test_the_evaluation_summary_equals_scikit_learns_scores_of_the_versions_own_answers():
    clock, bucket = ManualClock(1_764_000_000.0), Bucket()
    service = service_with(bucket, clock, noise=Noise(miss=0.3, jitter=10))
    train_lines = [labels_line(f"img/{n}.jpg", KINDS[n % 2]) for n in range(30)]
    # the test set disagrees with training on some images (a false positive each) and has images of its own
    test_lines = [labels_line(f"img/{n}.jpg", "bee" if n % 2 else "wasp", "flower") for n in range(0, 30, 3)]
    test_lines += [labels_line(f"new/{n}.jpg", KINDS[n % 2]) for n in range(10)]
    for key in [f"img/{n}.jpg" for n in range(30)] + [f"new/{n}.jpg" for n in range(10)]:
        bucket.objects[("images", key)] = image_bytes()
    bucket.objects[("images", "t.manifest")] = manifest_text(*train_lines).encode()
    bucket.objects[("images", "s.manifest")] = manifest_text(*test_lines).encode()
    project = service.dispatch("CreateProject", {"ProjectName": "scored"})["ProjectArn"]
    asset = lambda name: {"Assets": [{"GroundTruthManifest": {"S3Object": {"Bucket": "images", "Name": name}}}]}  # noqa: E731
    arn = train(service, project, TrainingData=asset("t.manifest"), TestingData=asset("s.manifest"))
    clock.advance(DELAY)
    done = described(service, project)
    location = done["EvaluationResult"]["Summary"]["S3Object"]
    summary = bucket.json(location["Bucket"], location["Name"])
    service.dispatch("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
    truths, answered = [], []
    for line in test_lines:
        document = json.loads(line)
        key = document["source-ref"].removeprefix("s3://images/")
        truths.append({document["labels-metadata"]["class-map"][str(i)] for i in document["labels"]})
        labels = service.dispatch(
            "DetectCustomLabels", {"ProjectVersionArn": arn, "Image": {"S3Object": {"Bucket": "images", "Name": key}}}
        )["CustomLabels"]
        answered.append({label["Name"] for label in labels})
        clock.advance(1)  # one call a second: within the model's throughput
    labels = sorted(set().union(*truths))
    binarizer = MultiLabelBinarizer(classes=labels)
    y_true, y_pred = binarizer.fit_transform(truths), binarizer.transform(answered)
    precision, recall, f1, _ = precision_recall_fscore_support(y_true, y_pred, average=None, zero_division=0)
    expected = {
        (label, name): float(values[i])
        for i, label in enumerate(labels)
        for name, values in (("Precision", precision), ("Recall", recall), ("F1Score", f1))
    }
    got = {
        (item["Label"], name): item["Metrics"][name]
        for item in summary["LabelEvaluationResults"]
        for name in ("Precision", "Recall", "F1Score")
    }
    assert got == pytest.approx(expected)
    micro = precision_recall_fscore_support(y_true, y_pred, average="micro", zero_division=0)
    aggregated = summary["AggregatedEvaluationResults"]["Metrics"]
    assert (aggregated["Precision"], aggregated["Recall"], aggregated["F1Score"]) == pytest.approx(micro[:3])
    assert done["EvaluationResult"]["F1Score"] == pytest.approx(micro[2])
    assert 0 < micro[2] < 1  # the noise and the disagreements make it imperfect: the comparison means something
    thresholds = {item["Label"]: item["Metrics"]["Threshold"] for item in summary["LabelEvaluationResults"]}
    assert thresholds == {label: service.models[arn].threshold(label) / 100 for label in labels}


def test_a_trained_version_answers_like_its_training_data_and_a_retrained_one_like_the_updated_data(world):
    service, bucket, clock = world
    project, train_arn, _ = project_with_datasets(service)
    first = train(service, project)
    clock.advance(DELAY)
    trained_on = [json.loads(line) for line in service.datasets.datasets[train_arn].entries.values()]
    image = trained_on[0]["source-ref"].removeprefix("s3://images/")
    was = trained_on[0]["labels-metadata"]["class-map"]["0"]
    became = next(kind for kind in KINDS if kind != was)
    bucket.objects[("images", "elsewhere/unknown.jpg")] = image_bytes()
    service.dispatch(
        "UpdateDatasetEntries",
        {
            "DatasetArn": train_arn,
            "Changes": {"GroundTruth": base64.b64encode(labels_line(image, became).encode()).decode()},
        },
    )
    second = train(service, project, name="v2")
    clock.advance(DELAY)

    def seen(arn, key):
        service.dispatch("StartProjectVersion", {"ProjectVersionArn": arn, "MinInferenceUnits": 1})
        answer = service.dispatch(
            "DetectCustomLabels", {"ProjectVersionArn": arn, "Image": {"S3Object": {"Bucket": "images", "Name": key}}}
        )
        service.dispatch("StopProjectVersion", {"ProjectVersionArn": arn})
        return [label["Name"] for label in answer["CustomLabels"]]

    assert (seen(first, image), seen(second, image)) == ([was], [became])
    assert seen(second, "elsewhere/unknown.jpg") == []
