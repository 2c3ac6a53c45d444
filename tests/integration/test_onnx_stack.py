"""The stack with the onnx backend (`cdk synth -c backend=onnx -c onnx_model=...`): the function runs the own model
on arm64 with no Rekognition permission, no model manager or spend guard, its event source on; an S3 model may be
read (with its spec beside it) and nothing else of its bucket; a local model's spec is checked at synth. The Custom
Labels template stays as it was (tests/integration/test_stack.py, untouched)."""

import json

import pytest
from aws_cdk.assertions import Match

from customlabels.config import ConfigError
from support.cloudformation import synth_template
from support.onnx_models import constant_model, save

pytestmark = pytest.mark.integration

S3_MODEL = "s3://my-models/bees/v2/bees.onnx"
MODEL_KEY = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
SPEC = {"format": "yolo-e2e", "labels": ["bee", "flower"]}


@pytest.fixture
def local_model(tmp_path):
    return save(constant_model({"output0": [[[0, 0, 10, 10, 0.9, 0]]]}), tmp_path / "bees.onnx", SPEC)


def onnx_template(tmp_path, **overrides):
    return synth_template(tmp_path, **{"backend": "onnx", "model_arn": "", **overrides})


def inference_function(template):
    [(name, function)] = [
        (name, resource)
        for name, resource in template.find_resources("AWS::Lambda::Function").items()
        if "Inference" in name
    ]
    return name, function


def statements(template):
    return [
        statement
        for policy in template.find_resources("AWS::IAM::Policy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ] + [
        statement
        for policy in template.find_resources("AWS::IAM::ManagedPolicy").values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions(statement):
    return statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]


def test_a_bundled_model_gives_an_arm64_function_of_the_onnx_handler_and_no_rekognition_at_all(tmp_path, local_model):
    template = onnx_template(tmp_path, onnx_model=str(local_model))
    _, function = inference_function(template)
    properties = function["Properties"]
    assert properties["Architectures"] == ["arm64"]
    assert properties["Runtime"] == "python3.14"
    assert properties["Handler"] == "customlabels_runtime.onnx_inference.handler.handler"
    assert properties["MemorySize"] == 2048  # the onnx default (ONNX_DEFAULT_MEMORY_MB)
    variables = properties["Environment"]["Variables"]
    assert variables["ONNX_MODEL"] == "model/bees.onnx" and "MODEL_ARN" not in variables
    assert not [a for s in statements(template) for a in actions(s) if a.startswith("rekognition:")]
    assert "rekognition" not in json.dumps(template.to_json()).lower()
    template.resource_count_is("AWS::Lambda::Function", 2)  # the function and CDK's notifications helper
    template.resource_count_is("AWS::Events::Rule", 0)  # no model manager schedule or upload rule
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping", {"Enabled": True, "ScalingConfig": {"MaximumConcurrency": 10}}
    )
    assert "ModelArn" not in template.to_json()["Outputs"] and "OnnxModel" in template.to_json()["Outputs"]


def test_memory_and_concurrency_are_configurable(tmp_path, local_model):
    template = onnx_template(tmp_path, onnx_model=str(local_model), function_memory_mb=3008, max_concurrency=4)
    template.has_resource_properties("AWS::Lambda::Function", {"MemorySize": 3008, "Architectures": ["arm64"]})
    template.has_resource_properties("AWS::Lambda::EventSourceMapping", {"ScalingConfig": {"MaximumConcurrency": 4}})


def test_an_s3_model_may_be_read_with_its_spec_and_nothing_else_of_its_bucket(tmp_path):
    template = onnx_template(tmp_path, onnx_model=S3_MODEL, onnx_model_key_arn=MODEL_KEY)
    [read] = [s for s in statements(template) if s.get("Sid") == "ReadTheModelAndItsSpec"]
    assert read["Action"] == "s3:GetObject" and read["Effect"] == "Allow"
    resources = [json.dumps(resource) for resource in read["Resource"]]
    assert len(resources) == 2
    assert all("my-models/bees/v2/bees.onnx" in resource and "*" not in resource for resource in resources)
    assert any(resource.endswith('bees.onnx.json"]]}') for resource in resources), resources
    readers = [s for s in statements(template) if "my-models" in json.dumps(s)]
    assert readers == [read]  # no other statement names the model's bucket
    [decrypt] = [s for s in statements(template) if s.get("Sid") == "DecryptTheModelThroughS3"]
    assert decrypt["Action"] == "kms:Decrypt" and decrypt["Resource"] == MODEL_KEY
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Join": ["", ["s3.", {"Ref": "AWS::Region"}, ".amazonaws.com"]]
    }
    _, function = inference_function(template)
    assert function["Properties"]["Environment"]["Variables"]["ONNX_MODEL"] == S3_MODEL


def test_without_a_key_arn_no_model_key_is_granted(tmp_path):
    template = onnx_template(tmp_path, onnx_model=S3_MODEL)
    assert not [s for s in statements(template) if s.get("Sid") == "DecryptTheModelThroughS3"]


def test_the_operator_policy_has_no_model_to_start_or_stop(tmp_path):
    template = onnx_template(tmp_path, onnx_model=S3_MODEL)
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {"Description": Match.string_like_regexp("thresholds"), "PolicyDocument": Match.object_like({})},
    )
    sids = {s.get("Sid") for s in statements(template)}
    assert {"ShowAndSetThresholds", "ListAndRedriveDeadLetters"} <= sids
    assert not {"StartAndStopTheModel", "ReadAndResumeTheManager", "DescribeTheModel"} & sids


def test_a_local_model_whose_spec_does_not_fit_fails_the_synth_naming_the_field_and_the_fix(tmp_path, local_model):
    local_model.with_name("bees.onnx.json").write_text(json.dumps({**SPEC, "input": {"layout": "NHWC"}}))
    with pytest.raises(ConfigError) as refused:
        onnx_template(tmp_path, onnx_model=str(local_model))
    assert str(refused.value).splitlines()[1:] == [
        "  - onnx_model: the spec of bees.onnx does not fit the model: input.layout is NHWC but the input images "
        '[1, 3, 640, 640] float has no 3 channels there. Fix: "input": {"layout": "NCHW"}'
    ]


@pytest.mark.parametrize(
    ("overrides", "says"),
    [
        ({}, "backend=onnx needs onnx_model. Fix: -c onnx_model="),
        ({"onnx_model": "missing.onnx"}, "onnx_model='missing.onnx': no such file"),
        ({"onnx_model": "s3://Bad_Bucket/x.onnx"}, "is not an s3://bucket/key URI"),
        ({"onnx_model": S3_MODEL, "onnx_model_key_arn": "alias/models"}, "is not a KMS key ARN"),
        ({"backend": "sagemaker"}, "backend='sagemaker' is unknown. Fix: -c backend=custom-labels"),
    ],
)
def test_bad_backend_settings_are_refused_with_the_fix(tmp_path, overrides, says):
    with pytest.raises(ConfigError) as refused:
        onnx_template(tmp_path, **overrides)
    assert says in str(refused.value)
