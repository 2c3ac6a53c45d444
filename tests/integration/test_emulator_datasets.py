"""The emulator's datasets (UpdateDatasetEntries, ListDatasetEntries, DescribeDataset): what Rekognition documents,
answered in shapes that botocore's service model accepts, reached by boto3 over HTTP with its paginator."""

import base64
import json
import re

import boto3
import botocore.session
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from customlabels.datasets.manifest import Box, object_detection_line
from customlabels.local.emulator.datasets import MAX_CHANGES_BYTES
from customlabels.local.emulator.errors import ServiceError
from customlabels.local.emulator.server import serve
from support.aws import MODEL_ARN

pytestmark = pytest.mark.integration

MODEL = botocore.session.get_session().get_service_model("rekognition")
TRAIN = f"{MODEL_ARN.split('/version/')[0]}/dataset/train/{MODEL_ARN.rsplit('/', 1)[1]}"
assert TRAIN == "arn:aws:rekognition:eu-west-1:123456789012:project/bees/dataset/train/1615479933000"


def conforms(value, shape, where="answer"):
    """The problems of `value` against a botocore shape: types, required members, enums, lengths, patterns (what
    botocore's own ParamValidator leaves out for output)."""
    problems = []
    kind, meta = shape.type_name, shape.metadata
    if kind == "structure":
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        problems += [f"{where}.{name}: required" for name in meta.get("required", []) if name not in value]
        for name, member in value.items():
            if name not in shape.members:
                problems.append(f"{where}.{name}: not in the model")
            else:
                problems += conforms(member, shape.members[name], f"{where}.{name}")
    elif kind == "list":
        problems += [] if isinstance(value, list) else [f"{where}: not a list"]
        for index, member in enumerate(value if isinstance(value, list) else []):
            problems += conforms(member, shape.member, f"{where}[{index}]")
    elif kind == "string":
        if not isinstance(value, str):
            return [f"{where}: not a string"]
        if shape.enum and value not in shape.enum:
            problems.append(f"{where}: {value!r} not in {shape.enum}")
        if not meta.get("min", 0) <= len(value) <= meta.get("max", len(value)):
            problems.append(f"{where}: length {len(value)} outside {meta.get('min')}-{meta.get('max')}")
        if "pattern" in meta and not re.search(meta["pattern"], value, re.S):
            problems.append(f"{where}: {value[:60]!r} does not match {meta['pattern']}")
    elif kind in ("integer", "long"):
        problems += [] if isinstance(value, int) and not isinstance(value, bool) else [f"{where}: not an integer"]
    elif kind == "boolean":
        problems += [] if isinstance(value, bool) else [f"{where}: not a boolean"]
    elif kind == "timestamp":
        problems += [] if isinstance(value, int | float) else [f"{where}: not a timestamp"]
    return problems


def call(service, operation, **request):
    answer = service.dispatch(operation, request)
    assert conforms(answer, MODEL.operation_model(operation).output_shape) == [], operation
    return answer


def changes(*lines):
    return {"GroundTruth": base64.b64encode("".join(line + "\n" for line in lines).encode()).decode()}


def line(name, *labels, bucket="images"):
    return object_detection_line(
        f"s3://{bucket}/{name}", 100, 100, [Box(label, 1, 1, 10, 10) for label in labels], ["bee", "flower"]
    )


def test_every_project_has_train_and_test_datasets_and_updates_replace_by_source_ref(service, clock):
    projects = call(service, "DescribeProjects")["ProjectDescriptions"]
    datasets = {d["DatasetType"]: d["DatasetArn"] for d in projects[0]["Datasets"]}
    assert datasets["TRAIN"] == TRAIN and datasets["TEST"] == TRAIN.replace("/train/", "/test/")

    call(service, "UpdateDatasetEntries", DatasetArn=TRAIN, Changes=changes(line("a.jpg", "bee"), line("b.jpg")))
    call(
        service,
        "UpdateDatasetEntries",
        DatasetArn=TRAIN,
        Changes=changes(line("a.jpg", "flower"), line("c.jpg", "bee", "flower")),
    )
    listed = call(service, "ListDatasetEntries", DatasetArn=TRAIN)["DatasetEntries"]
    assert listed == [line("a.jpg", "flower"), line("b.jpg"), line("c.jpg", "bee", "flower")], (
        "a.jpg replaced in place, c.jpg added"
    )
    stats = call(service, "DescribeDataset", DatasetArn=TRAIN)["DatasetDescription"]
    assert stats["Status"] == "UPDATE_COMPLETE" and stats["DatasetStats"] == {
        "LabeledEntries": 2,
        "TotalEntries": 3,
        "TotalLabels": 2,
        "ErrorEntries": 0,
    }

    def names(**filters):
        entries = call(service, "ListDatasetEntries", DatasetArn=TRAIN, **filters)["DatasetEntries"]
        return [json.loads(entry)["source-ref"].rsplit("/", 1)[1] for entry in entries]

    assert names(ContainsLabels=["bee"]) == ["c.jpg"]
    assert names(ContainsLabels=["bee", "flower"]) == ["a.jpg", "c.jpg"]
    assert names(Labeled=False) == ["b.jpg"] and names(Labeled=True) == ["a.jpg", "c.jpg"]
    assert names(SourceRefContains="b.j") == ["b.jpg"] and names(HasErrors=True) == []
    assert call(service, "ListDatasetEntries", DatasetArn=TRAIN.replace("/train/", "/test/"))["DatasetEntries"] == []


def test_an_update_takes_time_and_the_dataset_is_in_use_meanwhile(service, clock):
    service.datasets.update_delay = 30
    call(service, "UpdateDatasetEntries", DatasetArn=TRAIN, Changes=changes(line("a.jpg", "bee")))
    assert call(service, "DescribeDataset", DatasetArn=TRAIN)["DatasetDescription"]["Status"] == "UPDATE_IN_PROGRESS"
    with pytest.raises(ServiceError) as raised:
        service.dispatch("UpdateDatasetEntries", {"DatasetArn": TRAIN, "Changes": changes(line("b.jpg", "bee"))})
    assert raised.value.code == "ResourceInUseException"
    clock.now += 30
    assert call(service, "DescribeDataset", DatasetArn=TRAIN)["DatasetDescription"]["Status"] == "UPDATE_COMPLETE"
    call(service, "UpdateDatasetEntries", DatasetArn=TRAIN, Changes=changes(line("b.jpg", "bee")))


@pytest.mark.parametrize(
    ("request_", "code", "said"),
    [
        (
            {"DatasetArn": "arn:aws:rekognition:eu-west-1:123456789012:project/bees/1"},
            "InvalidParameterException",
            "not a dataset ARN",
        ),
        ({"DatasetArn": TRAIN.replace("/bees/", "/wasps/")}, "ResourceNotFoundException", "no such project"),
        ({"DatasetArn": TRAIN, "Changes": {}}, "InvalidParameterException", "GroundTruth is required"),
        ({"DatasetArn": TRAIN, "Changes": {"GroundTruth": "not base64!"}}, "InvalidParameterException", "not base64"),
        ({"DatasetArn": TRAIN, "Changes": changes("{}")}, "InvalidParameterException", "Changes:1: every line needs"),
        (
            {"DatasetArn": TRAIN, "Changes": changes(line("a.jpg"), "{oops")},
            "InvalidParameterException",
            "Changes:2: not a JSON object",
        ),
        (
            {"DatasetArn": TRAIN, "Changes": changes('{"source-ref": "a.jpg"}')},
            "InvalidParameterException",
            "not an s3:// URI",
        ),
        (
            {
                "DatasetArn": TRAIN,
                "Changes": {"GroundTruth": base64.b64encode(b"x" * (MAX_CHANGES_BYTES + 1)).decode()},
            },
            "InvalidParameterException",
            f"{MAX_CHANGES_BYTES + 1} bytes",
        ),
    ],
)
def test_bad_updates_are_refused_naming_the_problem_and_change_nothing(service, request_, code, said):
    with pytest.raises(ServiceError) as raised:
        service.dispatch("UpdateDatasetEntries", request_)
    assert raised.value.code == code and said in raised.value.message, raised.value.message
    if "/bees/" in request_["DatasetArn"] and "dataset" in request_["DatasetArn"]:
        assert service.dispatch("ListDatasetEntries", {"DatasetArn": TRAIN})["DatasetEntries"] == []


def test_changes_of_exactly_five_megabytes_are_accepted(service):
    entry = line("a.jpg", "bee")
    padding = MAX_CHANGES_BYTES - len(entry) - 1
    call(
        service,
        "UpdateDatasetEntries",
        DatasetArn=TRAIN,
        Changes={"GroundTruth": base64.b64encode((entry + "\n" + " " * padding).encode()).decode()},
    )
    assert call(service, "ListDatasetEntries", DatasetArn=TRAIN)["DatasetEntries"] == [entry]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        ({"MaxResults": 0}, "InvalidParameterException"),
        ({"MaxResults": 101}, "InvalidParameterException"),
        ({"ContainsLabels": []}, "InvalidParameterException"),
        ({"ContainsLabels": [str(n) for n in range(11)]}, "InvalidParameterException"),
        ({"NextToken": "garbage"}, "InvalidPaginationTokenException"),
    ],
)
def test_bad_listings_are_refused_with_the_documented_errors(service, request_, code):
    with pytest.raises(ServiceError) as raised:
        service.dispatch("ListDatasetEntries", {"DatasetArn": TRAIN, **request_})
    assert raised.value.code == code
    assert code in {e.name for e in MODEL.operation_model("ListDatasetEntries").error_shapes}


def test_boto3_pages_the_entries_with_its_own_paginator(service):
    server = serve(service)
    try:
        client = boto3.client(
            "rekognition", region_name="eu-west-1", endpoint_url=f"http://127.0.0.1:{server.server_address[1]}"
        )
        project = client.describe_projects(ProjectNames=["bees"])["ProjectDescriptions"][0]
        train = next(d["DatasetArn"] for d in project["Datasets"] if d["DatasetType"] == "TRAIN")
        lines = [line(f"{n:03}.jpg", "bee") for n in range(7)]
        client.update_dataset_entries(DatasetArn=train, Changes={"GroundTruth": "\n".join(lines).encode()})
        pages = list(
            client.get_paginator("list_dataset_entries").paginate(DatasetArn=train, PaginationConfig={"PageSize": 3})
        )
        assert [len(page["DatasetEntries"]) for page in pages] == [3, 3, 1]
        assert [entry for page in pages for entry in page["DatasetEntries"]] == lines
        assert client.describe_dataset(DatasetArn=train)["DatasetDescription"]["DatasetStats"]["TotalEntries"] == 7
        with pytest.raises(client.exceptions.ResourceNotFoundException):
            client.list_dataset_entries(DatasetArn=train.replace("/bees/", "/wasps/"))
    finally:
        server.shutdown()


batches = st.lists(
    st.lists(st.tuples(st.sampled_from("abcdef"), st.sets(st.sampled_from(["bee", "flower"]))), min_size=1, max_size=6),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches, st.integers(1, 4))
def test_the_dataset_holds_the_last_line_of_each_source_ref_in_the_order_first_sent(service, updates, page_size):
    train = TRAIN.replace("/train/", "/test/")  # a dataset no other example of this service has touched... yet
    service.datasets.datasets.clear()
    expected: dict[str, str] = {}
    for batch in updates:
        lines = [line(f"{name}.jpg", *sorted(labels)) for name, labels in batch]
        call(service, "UpdateDatasetEntries", DatasetArn=train, Changes=changes(*lines))
        for text in lines:
            expected[json.loads(text)["source-ref"]] = text
    listed, token = [], None
    while True:
        page = call(
            service,
            "ListDatasetEntries",
            DatasetArn=train,
            MaxResults=page_size,
            **({"NextToken": token} if token else {}),
        )
        listed += page["DatasetEntries"]
        token = page.get("NextToken")
        if not token:
            break
    assert listed == list(expected.values())
    stats = call(service, "DescribeDataset", DatasetArn=train)["DatasetDescription"]["DatasetStats"]
    assert stats["TotalEntries"] == len(expected)
    assert stats["LabeledEntries"] == sum(
        bool(json.loads(text)["bounding-box"]["annotations"]) for text in expected.values()
    )
