"""Nonsense is refused when the command line is parsed, naming the option and the range, with exit code 2."""

import re

import pytest

from customlabels.cli import build_parser

pytestmark = pytest.mark.unit

COST = ["cost", "--images-per-day", "5000", "--burst-hours", "2"]
EVALUATE = ["evaluate", "--manifest", "gt.manifest", "--results", "results"]
LOCAL_RUN = ["local", "run", "--images", "images", "--out", "out"]
VISUALIZE = ["visualize", "--results", "r", "--images", "i", "--out", "o"]

BAD = [
    (["cost", "--images-per-day", "-5", "--burst-hours", "2"], "--images-per-day", "at least 0"),
    (["cost", "--images-per-day", "5", "--burst-hours", "30"], "--burst-hours", "at most 24"),
    (["cost", "--images-per-day", "5", "--burst-hours", "0"], "--burst-hours", "above 0"),
    ([*COST, "--bursts-per-day", "0"], "--bursts-per-day", "at least 1"),
    ([*COST, "--price-per-iu-hour", "-4"], "--price-per-iu-hour", "at least 0"),
    ([*COST, "--inference-units", "0"], "--inference-units", "at least 1"),
    ([*COST, "--ms-per-image", "abc"], "--ms-per-image", "is not a number"),
    ([*EVALUATE, "--iou", "2"], "--iou", "at most 1"),
    ([*EVALUATE, "--iou", "-1"], "--iou", "above 0"),
    ([*EVALUATE, "--target-precision", "90"], "--target-precision", "a fraction: 0.9 for 90%"),
    ([*LOCAL_RUN, "--timeout", "-1"], "--timeout", "above 0"),
    ([*LOCAL_RUN, "--latency", "-1"], "--latency", "at least 0"),
    ([*LOCAL_RUN, "--start-delay", "-1"], "--start-delay", "at least 0"),
    ([*LOCAL_RUN, "--inference-units", "0"], "--inference-units", "at least 1"),
    ([*LOCAL_RUN, "--max-inference-units", "0"], "--max-inference-units", "at least 1"),
    ([*LOCAL_RUN, "--tps-per-inference-unit", "0"], "--tps-per-inference-unit", "above 0"),
    ([*LOCAL_RUN, "--visibility-timeout", "-3"], "--visibility-timeout", "at least 0"),
    ([*LOCAL_RUN, "--min-confidence", "150"], "--min-confidence", "a percent: 90 for 90%"),
    ([*VISUALIZE, "--min-confidence", "200"], "--min-confidence", "at most 100"),
    (["upload", ".", "--bucket", "b", "--workers", "0"], "--workers", "at least 1"),
    (["upload", ".", "--bucket", "b", "--workers", "two"], "--workers", "is not a whole number"),
    (["sample-data", "s", "--count", "0"], "--count", "at least 1"),
    (["manifest", "validate", "gt.manifest", "--limit", "-1"], "--limit", "at least 1"),
    (["model", "start", "--inference-units", "0"], "--inference-units", "at least 1"),
    (["results", "--bucket", "b", "--poll", "0"], "--poll", "above 0"),
    (["manifest", "stats", "gt.manifest", "--chart", "chart.txt"], "--chart", "ending in .png, .svg, .pdf"),
    (["manifest", "stats", "gt.manifest", "--chart", "noext"], "--chart", "ending in .png"),
    (["manifest", "stats", "gt.manifest", "--chart", "."], "--chart", "is a folder"),
]


@pytest.mark.parametrize(("args", "option", "says"), BAD, ids=[" ".join(args) for args, _, _ in BAD])
def test_nonsense_is_refused_at_parse_time_naming_the_option_and_the_range(capsys, args, option, says):
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(args)
    message = capsys.readouterr().err.strip().splitlines()[-1]
    assert exit_.value.code == 2
    assert f"argument {option}" in message and says in message, message


@pytest.mark.parametrize(
    "args",
    [
        COST,
        [*EVALUATE, "--iou", "1", "--target-precision", "0.9"],
        [*LOCAL_RUN, "--timeout", "0.5", "--latency", "0", "--visibility-timeout", "0"],
        [*VISUALIZE, "--min-confidence", "100"],
    ],
)
def test_the_edges_of_each_range_are_accepted(args):
    build_parser().parse_args(args)


def test_the_emulated_models_capacity_and_units_reach_the_model_and_the_units_the_configuration(tmp_path):
    from customlabels.cli.local import _pipeline
    from customlabels.local.emulator.capacity import DEFAULT_TPS_PER_INFERENCE_UNIT

    assert build_parser().parse_args(LOCAL_RUN).tps_per_inference_unit == DEFAULT_TPS_PER_INFERENCE_UNIT
    args = build_parser().parse_args(
        [
            *LOCAL_RUN,
            "--inference-units",
            "2",
            "--max-inference-units",
            "4",
            "--tps-per-inference-unit",
            "7.5",
            "--scale-after",
            "up=5,down=30",
        ]
    )
    pipeline = _pipeline(args, tmp_path / "log")
    options = pipeline.model_options
    assert (
        options.inference_units,
        options.max_inference_units,
        options.tps_per_inference_unit,
        options.scale_up_after,
        options.scale_down_after,
    ) == (2, 4, 7.5, 5, 30)
    assert (pipeline.config.min_inference_units, pipeline.config.max_inference_units) == (2, 4)
    assert "tps" not in " ".join(pipeline.config.function_environment()).lower()


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (
            ["--inference-units", "3", "--max-inference-units", "2"],
            "--max-inference-units 2 is below --inference-units 3",
        ),
        (["--scale-after", "sideways=3"], "unknown sideways; use up=SECONDS,down=SECONDS"),
        (["--scale-after", "up=-1"], "negative delay"),
    ],
)
def test_inconsistent_units_and_scaling_delays_are_refused_naming_the_fix(tmp_path, extra, says):
    from customlabels.cli.local import _pipeline
    from customlabels.errors import CommandError

    with pytest.raises(CommandError, match=re.escape(says)):
        _pipeline(build_parser().parse_args([*LOCAL_RUN, *extra]), tmp_path / "log")


def test_every_example_in_the_help_parses():
    """`customlabels --help` ends with examples; each must be a command the parser accepts."""
    import shlex

    from customlabels.cli import EXAMPLES

    text = EXAMPLES.removeprefix("examples:\n").replace("\\\n", " ")
    commands = [shlex.split(line.split(">")[0]) for line in text.splitlines() if line.strip()]
    assert len(commands) > 20
    for words in commands:
        assert words[0] == "customlabels", words
        build_parser().parse_args(words[1:])


@pytest.mark.parametrize("action", [["show"], ["set", "thresholds.json"]])
def test_only_import_assumed_offers_model_arn_the_others_would_ignore_it(capsys, action):
    model_arn = ["--model-arn", "arn:aws:rekognition:eu-west-1:123456789012:project/p/version/v/1"]
    assert build_parser().parse_args(["thresholds", "import-assumed", *model_arn]).model_arn == model_arn[1]
    with pytest.raises(SystemExit) as exit_:
        build_parser().parse_args(["thresholds", *action, *model_arn])
    assert exit_.value.code == 2 and "unrecognized arguments: --model-arn" in capsys.readouterr().err


@pytest.mark.parametrize(
    "args",
    [
        [*LOCAL_RUN, "--min-confidence"],
        [*VISUALIZE, "--min-confidence"],
        ["review", "export", "--results", "r", "--out", "o", "--low"],
    ],
)
def test_a_percent_below_one_is_kept_but_noted_with_the_percent_it_likely_means(capsys, args):
    assert build_parser().parse_args([*args, "0.8"]) is not None
    assert "note: 0.8 is read as 0.8% (a percent, not a fraction); for 80% give 80" in capsys.readouterr().err
    build_parser().parse_args([*args, "1"])
    assert capsys.readouterr().err == "", "1% and above are plainly percents"
