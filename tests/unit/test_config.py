"""The configuration object: defaults, conversion of `-c` strings, and errors that name the key and the fix."""

from dataclasses import fields, replace

import pytest

from customlabels.config import ConfigError, PipelineConfig
from customlabels_runtime import contract
from customlabels_runtime.contract import IMAGE_SUFFIXES
from customlabels_runtime.inference import logic
from customlabels_runtime.inference.logic import Settings
from support.aws import MODEL_ARN
from support.project import cdk_json_context

pytestmark = pytest.mark.unit


def test_cdk_json_defaults_match_the_dataclass_defaults():
    context = cdk_json_context()
    for field in fields(PipelineConfig):
        if field.name == "model_arn":  # required with custom-labels, not used with onnx: no ARN in cdk.json
            assert context[field.name] == field.default == "", "the model ARN has no sensible default"
            continue
        assert context[field.name] == field.default, field.name


def test_context_strings_from_the_command_line_are_converted():
    given = {
        "model_arn": MODEL_ARN,
        "min_confidence": "90",
        "batch_size": "7",
        "max_concurrency": "12",
        "removal_policy": "DESTROY",
        "results_prefix": "results/",
    }
    config = PipelineConfig.from_context(given.get)
    assert (config.min_confidence, config.batch_size, config.max_concurrency) == (90.0, 7, 12)
    assert config.removal_policy == "destroy"
    assert config.effective_results_prefix == "results/"


@pytest.mark.parametrize("unset", [None, "", "none", "null"])
def test_min_confidence_unset_means_the_models_assumed_thresholds(unset):
    config = PipelineConfig.from_context({"model_arn": MODEL_ARN, "min_confidence": unset}.get)
    assert config.min_confidence is None
    assert config.function_environment()["MIN_CONFIDENCE"] == ""


def test_results_go_beside_the_images_by_default():
    config = PipelineConfig(model_arn=MODEL_ARN)
    assert config.effective_results_prefix == config.input_prefix == "test_images/"


def test_region_and_account_come_from_the_model_arn():
    config = PipelineConfig(model_arn=MODEL_ARN)
    assert (config.region, config.account) == ("eu-west-1", "123456789012")


@pytest.mark.parametrize(
    ("model_arn", "versions"),
    [
        (MODEL_ARN, "arn:aws:rekognition:eu-west-1:123456789012:project/bees/*"),
        (
            "arn:aws-cn:rekognition:cn-north-1:123456789012:project/my.bees/version/v1/1615479933000",
            "arn:aws-cn:rekognition:cn-north-1:123456789012:project/my.bees/*",
        ),
    ],
)
def test_the_project_versions_arn_is_the_models_project_in_its_own_partition(model_arn, versions):
    assert PipelineConfig(model_arn=model_arn).project_versions_arn == versions


def test_missing_model_arn_says_how_to_pass_it():
    with pytest.raises(ConfigError, match=r"model_arn is required.*-c model_arn="):
        PipelineConfig.from_context({}.get)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        (
            "model_arn",
            "arn:aws:rekognition:eu-west-1:123456789012:project/bees/1615479933000",
            r"model_arn=.*not a Rekognition Custom Labels project version ARN.*Fix:",
        ),
        ("min_confidence", "101", r"min_confidence=101.0 is out of range.*0-100"),
        ("min_confidence", "-1", r"min_confidence=-1.0 is out of range"),
        ("min_confidence", "high", r"min_confidence='high' is not a number"),
        ("batch_size", "11", r"batch_size=11 is out of range.*1-10.*Fix: -c batch_size="),
        ("batch_size", "2.5", r"batch_size='2.5' is not a whole number"),
        ("max_concurrency", "1", r"max_concurrency=1 is out of range.*2-1000"),
        ("max_receive_count", "0", r"max_receive_count=0 is out of range"),
        ("input_prefix", "test_images", r"input_prefix='test_images' must be a key prefix.*ending in '/'"),
        ("input_prefix", "/test_images/", r"no leading '/'"),
        ("results_prefix", "results", r"results_prefix='results' must be a key prefix"),
        ("log_retention_days", "31", r"log_retention_days=31 is not a CloudWatch Logs retention.*30"),
        ("removal_policy", "delete", r"removal_policy='delete' is unknown.*retain.*destroy"),
        ("function_timeout_seconds", "901", r"function_timeout_seconds=901 is out of range"),
    ],
)
def test_bad_values_are_rejected_with_the_key_and_the_fix(key, value, message):
    with pytest.raises(ConfigError, match=message):
        PipelineConfig.from_context({"model_arn": MODEL_ARN, key: value}.get)


def test_every_problem_is_reported_at_once():
    with pytest.raises(ConfigError) as raised:
        PipelineConfig.from_mapping({"model_arn": MODEL_ARN, "batch_size": 0, "max_concurrency": 0})
    assert "batch_size=0" in str(raised.value) and "max_concurrency=0" in str(raised.value)


def test_unknown_keys_are_rejected():
    with pytest.raises(ConfigError, match=r"unknown key\(s\) batchsize"):
        PipelineConfig.from_mapping({"model_arn": MODEL_ARN, "batchsize": 5})


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("min_confidance", "did you mean min_confidence?"),
        ("batchsize", "did you mean batch_size?"),
        ("idle_minute", "did you mean idle_minutes?"),
        ("zzz", "use one of alarm_email, backend, batch_size"),
    ],
)
def test_a_context_key_that_looks_like_ours_but_is_not_names_the_closest(key, says):
    [problem] = PipelineConfig.unknown_context_keys({key, "model_arn", "stack_name"}, also_known={"stack_name"})
    assert problem.startswith(f"unknown key {key}. Fix: ") and says in problem


def test_cdk_own_context_keys_are_left_alone():
    assert (
        PipelineConfig.unknown_context_keys(
            {
                "@aws-cdk/core:checkSecretUsage",
                "aws:cdk:version-reporting",
                "acknowledged-issue-numbers",
                "min_confidence",
            }
        )
        == []
    )


@pytest.mark.parametrize(("value", "warned"), [(0.9, True), (0.5, True), (0, False), (1, False), (90, False)])
def test_a_threshold_below_one_warns_that_it_is_a_percent(value, warned):
    warnings = PipelineConfig(model_arn=MODEL_ARN, min_confidence=value).warnings()
    assert bool(warnings) == warned
    if warned:
        assert f"did you mean {value * 100:g}?" in warnings[0]


def test_visibility_timeout_is_six_times_the_function_timeout():
    assert PipelineConfig(model_arn=MODEL_ARN, function_timeout_seconds=45).visibility_timeout_seconds == 270


def test_the_function_reads_back_exactly_what_the_config_sets():
    config = PipelineConfig(
        model_arn=MODEL_ARN, min_confidence=72.5, input_prefix="in/", results_prefix="out/", batch_size=4
    )
    settings = Settings.from_environ(config.function_environment())
    assert settings == Settings(
        model_arn=MODEL_ARN, min_confidence=72.5, input_prefix="in/", results_prefix="out/", batch_workers=4
    )


def test_the_function_without_its_environment_says_how_to_deploy_it():
    with pytest.raises(RuntimeError, match=r"MODEL_ARN.*not set.*CDK stack"):
        Settings.from_environ({})


def test_notification_suffixes_and_the_handler_agree():
    # one definition, the contract's: the handler applies its image rule, the notifications its suffixes
    assert logic.is_input_image is contract.is_input_image
    settings = Settings(MODEL_ARN, None, "test_images/", "test_images/")
    assert all(logic.is_processable(f"test_images/bee{suffix}", settings) for suffix in IMAGE_SUFFIXES)
    assert not logic.is_processable("test_images/bee.Jpg", settings)  # no notification matches this case
    lowercase = {suffix.lower() for suffix in IMAGE_SUFFIXES}
    assert lowercase == {".jpg", ".jpeg", ".png"}
    assert all(suffix.upper() in IMAGE_SUFFIXES for suffix in lowercase)


@pytest.mark.parametrize(
    ("units", "batch", "expected"),
    [(1, 10, 2), (2, 10, 2), (4, 10, 2), (5, 10, 3), (10, 10, 5), (10, 1, 50), (100, 10, 50)],
)
def test_max_concurrency_by_default_is_just_enough_to_keep_the_model_busy(units, batch, expected):
    """Little's law: up to 10 calls/s per unit x units x 0.5 s in flight, batch_size of them per invocation, at
    least 2. No rounding to a share: each environment finds its own rate (ThroughputControl)."""
    config = PipelineConfig(model_arn=MODEL_ARN, min_inference_units=1, max_inference_units=units, batch_size=batch)
    assert config.effective_max_concurrency == expected


def test_the_function_is_told_no_rate_to_keep_only_whether_the_model_may_scale():
    config = PipelineConfig(model_arn=MODEL_ARN, min_inference_units=2, max_inference_units=5)
    assert not any("PER_SECOND" in name for name in config.function_environment())
    assert Settings.from_environ(config.function_environment()).scale_factor == 2.5


@pytest.mark.parametrize("auto", ["auto", "none", ""])
def test_max_concurrency_auto_is_derived_and_a_number_wins(auto):
    assert PipelineConfig.from_mapping({"model_arn": MODEL_ARN, "max_concurrency": auto}).max_concurrency is None
    assert PipelineConfig.from_mapping({"model_arn": MODEL_ARN, "max_concurrency": "7"}).effective_max_concurrency == 7


def test_the_model_managers_own_settings_warn_that_they_do_nothing_with_the_onnx_backend():
    quiet = PipelineConfig(backend="onnx", onnx_model="s3://models-bucket/bees.onnx")
    assert quiet.warnings() == []
    warned = replace(quiet, max_wait_minutes=60, max_model_hours_per_day=4).warnings()
    assert (
        warned and "max_model_hours_per_day, max_wait_minutes set, but backend=onnx has no model manager" in warned[0]
    )
    assert PipelineConfig(model_arn=MODEL_ARN, max_wait_minutes=60).warnings() == []


def test_the_onnx_function_gets_no_custom_labels_setting():
    """The own model has no model ARN, version in service or inference units: its environment names none of them,
    and its settings read the defaults (review of issue 29: it got MIN/MAX_INFERENCE_UNITS it never used)."""
    environment = PipelineConfig(backend="onnx", onnx_model="s3://models-bucket/bees.onnx").function_environment()
    custom_labels_only = {"MODEL_ARN", "MODEL_VERSION_MAX_AGE_SECONDS", "MIN_INFERENCE_UNITS", "MAX_INFERENCE_UNITS"}
    assert custom_labels_only.isdisjoint(environment)
    settings = Settings.from_environ(environment)
    assert (settings.model_arn, settings.scale_factor) == ("", 1.0)
    assert custom_labels_only <= set(PipelineConfig(model_arn=MODEL_ARN).function_environment())
