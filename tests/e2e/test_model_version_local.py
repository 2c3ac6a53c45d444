"""The version in service on the local stack: writing the document (what `customlabels model promote` writes) switches
the running pipeline without a restart, every image gets exactly one result naming the version that answered it, and
nothing reaches the DLQ. The stack's outputs are there for `--stack`, as deployed."""

import json

import pytest

from customlabels.local.aws import client
from customlabels.local.emulator.options import ModelOptions
from customlabels.local.pipeline import LocalPipeline, load_config
from customlabels_runtime.model_version import Retiring, VersionDocument
from support.cli import customlabels
from support.images import image_bytes

pytestmark = pytest.mark.e2e


def second_version(model_arn: str) -> str:
    project = model_arn.split("/version/")[0]
    return f"{project}/version/second.2026-12-02/1764669600000"


def answered(outcomes: dict[str, str]) -> bool:
    """Every image has a result (the emulator's default model finds nothing in the test image)."""
    return set(outcomes.values()) <= {"labels", "nothing"}


def results_written(stack, keys) -> dict[str, list[dict]]:
    """Every version of each key's result object: one each, or the image was answered twice."""
    found = {}
    for key in keys:
        result_key = stack.result_key_for(key)
        versions = stack.s3.list_object_versions(Bucket=stack.resources.bucket, Prefix=result_key)["Versions"]
        found[key] = [
            json.loads(
                stack.s3.get_object(Bucket=stack.resources.bucket, Key=result_key, VersionId=v["VersionId"])[
                    "Body"
                ].read()
            )
            for v in versions
            if v["Key"] == result_key
        ]
    return found


def test_writing_the_document_switches_the_pipeline_and_every_image_gets_one_result_naming_its_version():
    config = load_config(model_lifecycle="manual")  # both versions run; the manager only gates the event source
    first, second = config.model_arn, second_version(config.model_arn)
    with LocalPipeline(config, model=ModelOptions(running=True), visibility_timeout=15, version_max_age=0) as stack:
        stack.service.add_model(second, running=True)
        ssm = client("ssm", stack.resources.endpoint, stack.region)
        before = [f"test_images/before/{index}.jpg" for index in range(4)]
        during = [f"test_images/during/{index}.jpg" for index in range(6)]
        after = [f"test_images/after/{index}.jpg" for index in range(4)]
        for key in before:
            stack.upload(key, image_bytes())
        assert answered(stack.wait(before, timeout=300))
        for key in during[:3]:
            stack.upload(key, image_bytes())
        switched = VersionDocument(second, first, "2026-12-02T10:00:00+00:00", Retiring(first, "2026-12-02T10:03:00Z"))
        ssm.put_parameter(
            Name=stack.resources.model_version_parameter, Value=switched.to_json(), Type="String", Overwrite=True
        )
        for key in during[3:]:
            stack.upload(key, image_bytes())
        assert answered(stack.wait(during, timeout=300))
        for key in after:
            stack.upload(key, image_bytes())
        assert answered(stack.wait(after, timeout=300))
        written = results_written(stack, before + during + after)
        assert {key: len(results) for key, results in written.items()} == dict.fromkeys(written, 1)
        version = {key: results[0]["ProjectVersionArn"] for key, results in written.items()}
        assert {version[key] for key in before} == {first}
        assert {version[key] for key in during} <= {first, second}
        assert {version[key] for key in during[3:] + after} == {second}  # uploaded after the switch
        assert stack.dead_letter_keys() == set()


def test_the_local_stack_answers_for_the_deployed_stacks_outputs():
    """`--stack CustomLabelsPipeline` works against the local stack: the commands read its outputs as deployed."""
    with LocalPipeline(load_config(), visibility_timeout=15) as stack:
        shown = customlabels("thresholds", "show", "--stack", "CustomLabelsPipeline", env=stack.client_environment())
        assert shown.returncode == 0, shown.stderr
        cloudformation = client("cloudformation", stack.resources.endpoint, stack.region)
        [described] = cloudformation.describe_stacks(StackName="CustomLabelsPipeline")["Stacks"]
        outputs = {output["OutputKey"]: output["OutputValue"] for output in described["Outputs"]}
        assert outputs["ModelVersionParameter"] == stack.resources.model_version_parameter
        assert outputs["BucketName"] == stack.resources.bucket
        assert outputs["ModelVersionDrainSeconds"] == str(stack.config.version_drain_seconds)
