"""The docs are tested, so that they cannot drift from the code (issue 22).

Every fenced shell block (```bash, sh, shell, console) in README.md and docs/*.md is read as the commands a
user would copy. Conventions, written in the Markdown on the line right before the fence:

- no comment: the block runs here, command by command, in a fresh folder (`customlabels ...` in this
  process, `local serve` as a process stopped once it is up). Each must exit 0, files that a command's
  trailing comment names (`# moved.train.manifest, ...`) must exist afterwards, and the checks in
  `DOCUMENTED_OUTCOMES` apply. Files a block uses as the reader's own (`GIVEN`: `gt.manifest`,
  `./my_images`) are made from the sample data set first.
- `<!-- needs: aws -->` (or `needs: REASON`): the block cannot run here (a real account, a deployed stack,
  or the whole suite); it is still checked, not run.
- `<!-- synopsis -->`: a usage line: `[optional parts]` are checked with the brackets removed, each side of
  an `A | B` alternative on its own, and an indented line continues the previous one.

Checked in every block, run or not: each `customlabels ...` line parses with the real argparse parser;
every `-c key=value` (also inside `CDK_ARGS="..."` and in the prose) names a context key the app reads and
its value passes the configuration's validation (a value with `...` or `<...>` is a placeholder: `model_arn`
then gets `MODEL_ARN_EXAMPLE`); every `make TARGET` is a Makefile target; and no unmarked block calls a
program that cannot run here (`aws`, `cdk`).
"""

from __future__ import annotations

import ast
import contextlib
import io
import json
import re
import shlex
import shutil
import signal
import time
from dataclasses import MISSING, dataclass, field, fields
from itertools import pairwise
from pathlib import Path

import pytest

from customlabels import cli, config
from customlabels.config import MODEL_ARN_EXAMPLE, ConfigError, PipelineConfig
from customlabels.config_model_manager import MODEL_LIFECYCLES
from customlabels.operations import cost
from support.cli import started
from support.project import ROOT, cdk_json_context

pytestmark = pytest.mark.e2e  # its static checks are quick; the documented commands it runs start processes

DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
SHELL_LANGUAGES = {"bash", "sh", "shell", "console"}
KNOWN_MARKS = {"needs", "synopsis"}
CANNOT_RUN_HERE = {"aws", "cdk", "npx", "jq"}

CONTEXT_KEYS = {f.name for f in fields(PipelineConfig)} | {"stack_name"}
"""What `-c` can set: the configuration's fields, and the stack's name, which stacks/application.py reads."""
PLACEHOLDER_VALUES = {"model_arn": MODEL_ARN_EXAMPLE, "onnx_model": "s3://my-models/bees.onnx"}


# --- reading the Markdown ------------------------------------------------------------------------------------


@dataclass
class Command:
    doc: str
    line: int
    text: str
    words: list[str]
    stdout_to: str | None = None
    comment: str = ""

    @property
    def program(self) -> str:
        return Path(self.words[0]).name if self.words else ""

    def where(self) -> str:
        return f"{self.doc}:{self.line}: {self.text}"


@dataclass
class Block:
    doc: str
    line: int
    language: str
    marks: dict[str, str]
    lines: list[tuple[int, str]]
    commands: list[Command] = field(default_factory=list)

    @property
    def runs_here(self) -> bool:
        return not self.marks

    def __str__(self) -> str:
        return f"{self.doc}:{self.line}"


def parse_marks(text: str) -> dict[str, str]:
    marks = {}
    for part in filter(None, (piece.strip() for piece in text.split(";"))):
        name, _, value = part.partition(":")
        marks[name.strip()] = value.strip()
    return marks


def read_blocks(path: Path) -> list[Block]:
    doc = path.relative_to(ROOT).as_posix()
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks, number = [], 0
    while number < len(lines):
        opening = re.match(r"^\s*(```+|~~~+)\s*(\w*)", lines[number])
        if not opening:
            number += 1
            continue
        fence, language = opening.groups()
        mark = re.fullmatch(r"\s*<!--\s*(.*?)\s*-->\s*", lines[number - 1]) if number else None
        start, body = number + 1, []
        number += 1
        while number < len(lines) and not lines[number].strip().startswith(fence):
            body.append((number + 1, lines[number]))
            number += 1
        number += 1
        if language in SHELL_LANGUAGES:
            blocks.append(Block(doc, start, language, parse_marks(mark[1]) if mark else {}, body))
    for block in blocks:
        block.commands = split_commands(block)
    return blocks


def split_commands(block: Block) -> list[Command]:
    """Logical lines (`\\` continuations; in a synopsis, indented lines too), then `|`, `&&`, `;` pipelines."""
    logical: list[tuple[int, str]] = []
    continued = False
    for number, text in block.lines:
        stripped = text.strip()
        if continued or (logical and "synopsis" in block.marks and text[:1].isspace() and stripped):
            logical[-1] = (logical[-1][0], logical[-1][1] + " " + stripped.removesuffix("\\").strip())
        elif stripped and not stripped.startswith("#"):
            logical.append((number, stripped.removesuffix("\\").strip()))
        continued = stripped.endswith("\\")
    commands = []
    for number, text in logical:
        text, comment = split_comment(text)
        # In a synopsis `|` separates alternatives, not the commands of a pipeline.
        lexer = shlex.shlex(text, posix=True, punctuation_chars="&;" if "synopsis" in block.marks else "|&;")
        lexer.whitespace_split, lexer.commenters = True, ""
        words = list(lexer)
        segment: list[str] = []
        for word in [*words, ";"]:
            if word in ("||", "&&", ";", "&") or (word == "|" and "synopsis" not in block.marks):
                if segment:
                    command = Command(block.doc, number, text, segment, comment=comment)
                    while ">" in command.words:
                        at = command.words.index(">")
                        command.stdout_to = command.words[at + 1]
                        del command.words[at : at + 2]
                    commands.append(command)
                segment = []
            else:
                segment.append(word)
    return commands


def split_comment(text: str) -> tuple[str, str]:
    """`cmd 'a # b'  # comment` -> (`cmd 'a # b'`, `comment`): a `#` starting a word outside quotes."""
    quote = None
    for index, char in enumerate(text):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or text[index - 1].isspace()):
            return text[:index].rstrip(), text[index + 1 :].strip()
    return text, ""


def synopsis_variants(words: list[str]) -> list[list[str]]:
    """`[--a 1] [--stack S | --model-arn ARN]` -> the words without brackets, once per side of each `|`."""
    text = " ".join(words)
    groups = re.findall(r"\[([^\]]*)\]", text)
    base = re.sub(r"\[([^\]]*)\]", lambda match: match[1] if "|" not in match[1] else "", text)
    variants = [base]
    for group in groups:
        if "|" in group:
            variants += [f"{base} {side.strip()}" for side in group.split("|")]
    return [variant.split() for variant in variants]


BLOCKS = [block for path in DOCS for block in read_blocks(path)]
COMMANDS = [command for block in BLOCKS for command in block.commands]


def block_of(command: Command) -> Block:
    return next(block for block in BLOCKS if command in block.commands)


# --- checks of every documented command, run or not ----------------------------------------------------------


def parse_customlabels(words: list[str]) -> str | None:
    """None if the real parser accepts `words`, else what it said."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            cli.build_parser().parse_args(words)
    except SystemExit as exit_:
        if exit_.code not in (0, None):
            return stderr.getvalue().strip().splitlines()[-1] if stderr.getvalue() else f"exit {exit_.code}"
    return None


def context_problems(pairs: list[str], where: str) -> list[str]:
    """`key=value` pairs of `-c`: known keys, and values the configuration accepts (all together)."""
    problems, values = [], {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key not in CONTEXT_KEYS:
            problems.append(f"{where}: -c {key}: not a context key (PipelineConfig fields, stack_name)")
        elif "..." in value or "<" in value:
            if key in PLACEHOLDER_VALUES:
                values[key] = PLACEHOLDER_VALUES[key]
        elif key != "stack_name":
            values[key] = value
    if values.get("backend") == "onnx" or {"onnx_model", "onnx_model_key_arn"} & set(values):
        # The own model's keys go together: each is checked in the configuration it belongs to.
        values = {"backend": "onnx", "onnx_model": PLACEHOLDER_VALUES["onnx_model"], **values}
    if not problems:
        try:
            PipelineConfig.from_mapping({"model_arn": MODEL_ARN_EXAMPLE, **values})
        except ConfigError as error:
            problems.append(f"{where}: {error}")
    return problems


def makefile_targets() -> set[str]:
    return set(re.findall(r"^([a-z][\w-]*):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def command_problems(command: Command, synopsis: bool) -> list[str]:
    words, where = command.words, command.where()
    if command.program == "customlabels":
        variants = synopsis_variants(words[1:]) if synopsis else [words[1:]]
        return [
            f"{where}\n    `customlabels {' '.join(variant)}`: {said}"
            for variant in variants
            if (said := parse_customlabels(variant)) is not None
        ]
    if command.program == "make":
        problems = [
            f"{where}: make {word}: no such Makefile target"
            for word in words[1:]
            if "=" not in word and not word.startswith("-") and word not in makefile_targets()
        ]
        pairs = []
        for word in words[1:]:
            name, _, value = word.partition("=")
            if name == "MODEL_ARN":
                pairs.append(f"model_arn={value}")
            elif name == "CDK_ARGS":
                pairs += [pair for flag, pair in pairwise(value.split()) if flag == "-c"]
        return problems + context_problems(pairs, where)
    if command.program in ("cdk", "npx"):
        return context_problems([pair for flag, pair in pairwise(words) if flag == "-c"], where)
    return []


def test_the_docs_have_shell_blocks_and_every_mark_is_known():
    assert len(BLOCKS) > 15 and any(block.runs_here for block in BLOCKS)
    unknown = [
        f"{block}: {sorted(set(block.marks) - KNOWN_MARKS)}" for block in BLOCKS if set(block.marks) - KNOWN_MARKS
    ]
    assert not unknown, f"unknown marks (use needs: ... or synopsis): {unknown}"


def test_every_documented_command_flag_context_key_and_make_target_exists():
    problems = [
        problem
        for block in BLOCKS
        for command in block.commands
        for problem in command_problems(command, "synopsis" in block.marks)
    ]
    assert not problems, "documented commands the code does not accept:\n" + "\n".join(problems)


def test_every_context_key_in_the_prose_exists_and_its_value_is_valid():
    problems = []
    for path in DOCS:
        for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            for pair in set(re.findall(r"-c (\w+=[^\s`\"')]+)", text)) - {"key=value"}:  # the syntax itself
                problems += context_problems([pair], f"{path.relative_to(ROOT)}:{number}")
    assert not problems, "\n".join(problems)


def test_every_make_target_named_in_the_prose_exists():
    named = {
        (path.relative_to(ROOT).as_posix(), target)
        for path in DOCS
        for target in re.findall(r"`make ([a-z][\w-]*)", path.read_text(encoding="utf-8"))
    }
    missing = sorted(pair for pair in named if pair[1] not in makefile_targets())
    assert named and not missing, f"make targets the Makefile lacks: {missing}"


def test_the_app_reads_stack_name_from_the_context():
    """`stack_name` is a context key although not a PipelineConfig field: the app must still read it."""
    assert 'try_get_context("stack_name")' in (ROOT / "stacks" / "application.py").read_text()


def test_no_unmarked_block_needs_what_is_not_here():
    problems = [
        command.where()
        for block in BLOCKS
        if block.runs_here
        for command in block.commands
        if command.program in CANNOT_RUN_HERE or "--stack" in command.words
    ]
    assert not problems, "these cannot run here: mark their block <!-- needs: aws -->\n" + "\n".join(problems)


# --- running the blocks that can run here --------------------------------------------------------------------


def make_given(workspace: Path) -> None:
    """The reader's own files the docs name, made from the sample data set."""
    from customlabels.datasets.sample_data import generate

    sample = generate(workspace / ".given", count=4, seed=3)
    shutil.copytree(sample.images, workspace / "my_images")
    lines = Path(sample.manifest).read_text(encoding="utf-8")
    (workspace / "gt.manifest").write_text(
        re.sub(r"s3://[\w.-]+/test_images/", "s3://old-bucket/images/", lines), encoding="utf-8"
    )


def summary_outcomes(workspace: Path, command: Command) -> dict[str, str]:
    out = command.words[command.words.index("--out") + 1]
    summary = json.loads((workspace / out / "summary.json").read_text())
    return {image["key"]: image["outcome"] for image in summary["images"]}


def check_sample(workspace: Path, command: Command, _output: str) -> None:
    """`# images drawn with Pillow + Ground Truth manifest`"""
    out = workspace / command.words[2]
    images = [path for path in (out / "images").rglob("*") if path.suffix in (".jpg", ".png")]
    assert images and (out / "manifest.jsonl").read_text().count("\n") == len(images)


def check_manifest_model(workspace: Path, command: Command, _output: str) -> None:
    """`# the model answers with the manifest's boxes`: every image gets labels."""
    assert set(summary_outcomes(workspace, command).values()) == {"labels"}


def check_faults(workspace: Path, command: Command, _output: str) -> None:
    """`# rehearse faults: retried, nothing lost`: every image reached a result."""
    outcomes = summary_outcomes(workspace, command)
    assert len(outcomes) == 4 and not {"dead-letter", "timeout"} & set(outcomes.values())


def check_rewrite(workspace: Path, command: Command, _output: str) -> None:
    new = command.words[command.words.index("--to") + 1]
    refs = [json.loads(line)["source-ref"] for line in (workspace / command.words[4]).read_text().splitlines()]
    assert refs and all(ref.startswith(new) for ref in refs)


def check_serve(_workspace: Path, _command: Command, output: str) -> None:
    """`# keep it up; prints endpoints and env for the aws CLI`"""
    assert "AWS_ENDPOINT_URL_S3=" in output and "aws s3 cp" in output


DOCUMENTED_OUTCOMES = [
    (r"^customlabels sample-data ", check_sample),
    (r"^customlabels local run .*--model manifest:", check_manifest_model),
    (r"^customlabels local run .*--faults", check_faults),
    (r"^customlabels manifest rewrite ", check_rewrite),
    (r"^customlabels local serve ", check_serve),
]


def serve_until_up(words: list[str], workspace: Path) -> tuple[int, str]:
    """`local serve` runs until stopped: start it, read until it prints how to use it, then Ctrl-C it, as the
    docs say (SIGINT)."""
    process = started(*words, cwd=workspace)
    printed = ""
    try:
        while "aws s3 cp s3://" not in printed and (line := process.stdout.readline()):
            printed += line
        while not printed.rstrip().endswith(".json -") and (line := process.stdout.readline()):
            printed += line
        time.sleep(2)
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=120)
    return code, printed  # not read to the end: a stray child would hold the pipe open


def run(command: Command, workspace: Path) -> tuple[int, str]:
    words = command.words[1:]
    if words[:2] == ["local", "serve"]:
        return serve_until_up(words, workspace)
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        try:
            code = cli.main(words)
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
            print(exit_.code)
    if command.stdout_to:
        (workspace / command.stdout_to).write_text(output.getvalue())
    return code, output.getvalue()


RUNNABLE_PAGES = {
    doc: [block for block in BLOCKS if block.doc == doc and block.runs_here]
    for doc in dict.fromkeys(block.doc for block in BLOCKS if block.runs_here)
}


@pytest.mark.parametrize("doc", list(RUNNABLE_PAGES))
def test_runnable_blocks_run_as_documented(doc, tmp_path, monkeypatch):
    """A page's unmarked blocks, in order in one folder, as a reader following the page runs them."""
    make_given(tmp_path)
    monkeypatch.chdir(tmp_path)
    for command in (command for block in RUNNABLE_PAGES[doc] for command in block.commands):
        assert command.program == "customlabels", f"{command.where()}: cannot run this here; mark the block"
        code, output = run(command, tmp_path)
        assert code == 0, f"{command.where()}\nexit {code}:\n{output[-3000:]}"
        for name in re.findall(r"[\w./-]+\.(?:manifest|png|json|jsonl|csv|html)\b", command.comment):
            assert (tmp_path / name).exists(), f"{command.where()}: the comment names {name}, which is not there"
        for pattern, check in DOCUMENTED_OUTCOMES:
            if re.search(pattern, command.text):
                check(tmp_path, command, output)


def test_every_documented_outcome_check_matches_a_documented_command():
    unused = [
        pattern
        for pattern, _ in DOCUMENTED_OUTCOMES
        if not any(re.search(pattern, command.text) for command in COMMANDS if block_of(command).runs_here)
    ]
    assert not unused, f"checks of commands no runnable block holds any more: {unused}"


# --- figures in the docs come from one source ----------------------------------------------------------------


def readme_configuration_table() -> dict[str, tuple[str, str]]:
    """README's configuration table: key -> (default cell, meaning cell)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("## Configuration") : text.index("## Reading the results")]
    return {
        match[1]: (match[2].strip(), match[3].strip())
        for match in re.finditer(r"^\| `(\w+)` \|([^|]*)\|(.*)\|$", section, re.MULTILINE)
    }


def stated_default(cell: str):
    """`*(required)*` -> MISSING, `derived` -> None, `` `null` (= ...) `` -> None, `` `10` `` -> 10."""
    if cell == "*(required)*":
        return MISSING
    if cell == "derived":
        return None
    literal = re.match(r"`([^`]*)`", cell)[1]
    try:
        return json.loads(literal)
    except json.JSONDecodeError:
        return literal


def accepts(**values) -> bool:
    try:
        PipelineConfig(model_arn=MODEL_ARN_EXAMPLE, **values)
    except ConfigError:
        return False
    return True


def test_readme_configuration_table_has_every_key_with_the_code_and_cdk_json_default():
    from customlabels_runtime.contract import DEFAULT_STACK_NAME

    table = readme_configuration_table()
    context = {key: value for key, value in cdk_json_context().items() if not key.startswith("@")}
    assert set(table) == CONTEXT_KEYS, "README's table and the context keys differ"
    assert set(context) | {"model_arn"} == CONTEXT_KEYS, "cdk.json's context and the context keys differ"
    defaults = {f.name: f.default for f in fields(PipelineConfig)} | {"stack_name": DEFAULT_STACK_NAME}
    wrong = {
        key: (cell, defaults[key], context.get(key, MISSING))
        for key, (cell, _) in table.items()
        if not stated_default(cell) == defaults[key] == context.get(key, MISSING)
    }
    assert not wrong, f"README default, code default, cdk.json value: {wrong}"


def test_every_range_the_readme_table_states_is_what_the_configuration_accepts():
    """`low-high` in a row's meaning: low and high pass validation (every other key at its default), and the
    values just outside do not. So `function_timeout_seconds` cannot say 10 while the defaults need 22."""
    kinds = {f.name: f.type for f in fields(PipelineConfig)}
    checked, wrong = [], []
    for key, (_, meaning) in readme_configuration_table().items():
        for low, high in re.findall(r"(?<![\w.-])(\d+)-(\d+)(?![\w.])", meaning):
            step = 0.001 if "float" in str(kinds[key]) else 1
            low, high = int(low), int(high)
            checked.append(key)
            verdicts = {low: True, high: True, low - step: False, high + step: False}
            wrong += [
                f"{key}={value}: the README says {'in' if expected else 'out of'} range {low}-{high}"
                for value, expected in verdicts.items()
                if accepts(**{key: value}) != expected
            ]
    assert len(checked) >= 6 and not wrong, "\n".join(wrong)


def test_readme_table_names_the_accepted_values_of_the_enumerated_keys():
    table = readme_configuration_table()
    stated_retentions = [int(day) for day in re.findall(r"\d+", table["log_retention_days"][1].split(":")[1])]
    assert stated_retentions and tuple(stated_retentions) == config.LOG_RETENTION_DAYS[: len(stated_retentions)]
    for key, allowed in (("removal_policy", config.REMOVAL_POLICIES), ("model_lifecycle", MODEL_LIFECYCLES)):
        named = set(re.findall(r"`([\w-]+)`", table[key][1])) - CONTEXT_KEYS
        assert named == set(allowed), f"{key}: README names {sorted(named)}, the code accepts {allowed}"


def test_defaults_quoted_in_the_prose_are_the_configuration_defaults():
    """`` `idle_minutes` (30) `` anywhere in the docs is the default of idle_minutes."""
    defaults = {f.name: f.default for f in fields(PipelineConfig)}
    quoted = [
        (path.relative_to(ROOT).as_posix(), key, int(value))
        for path in DOCS
        for key, value in re.findall(r"`(\w+)`(?: receives)? \((\d+)\b", path.read_text(encoding="utf-8"))
        if key in defaults
    ]
    wrong = [item for item in quoted if defaults[item[1]] != item[2]]
    assert len(quoted) >= 5 and not wrong, f"defaults quoted wrong (doc, key, quoted): {wrong}"


def doc_text(name: str) -> str:
    return " ".join((ROOT / name).read_text(encoding="utf-8").split())


def test_every_lambda_price_in_the_docs_is_the_arm64_price_of_the_pricing_module():
    """The functions are arm64 (stacks/bundling.py); cost.py prices them at AWS's arm64 rate (us-east-1)."""
    from stacks.bundling import ARCHITECTURE

    assert ARCHITECTURE.name == "arm64"
    prices = cost.Prices()
    assert prices.lambda_gb_second == 0.0000133334  # AWS's published arm64 rate, first 7.5 billion GB-s a month
    quoted = [
        (path.name, float(value))
        for path in DOCS
        for value in re.findall(r"([\d.]+) per GB-s", " ".join(path.read_text(encoding="utf-8").split()))
    ]
    assert quoted and all(value == prices.lambda_gb_second for _, value in quoted), quoted


def test_the_default_prices_the_cost_docs_list_are_the_pricing_module_and_cli_defaults():
    prices, text = cost.Prices(), doc_text("docs/model-lifecycle.md")
    stated = re.search(
        r"Default prices \(USD, us-east-1\): Lambda arm64 ([\d.]+) per GB-s and ([\d.]+) per million "
        r"requests; SQS ([\d.]+) per million requests; S3 ([\d.]+) per 1,000 PUT and ([\d.]+) per "
        r"1,000 GET",
        text,
    )
    assert stated, "the default prices sentence of docs/model-lifecycle.md changed: update this test"
    assert [float(value) for value in stated.groups()] == pytest.approx(
        [
            prices.lambda_gb_second,
            prices.lambda_request * 1e6,
            prices.sqs_request * 1e6,
            prices.s3_put_request * 1e3,
            prices.s3_get_request * 1e3,
        ],
        rel=1e-9,
    )
    cli_default = cli.build_parser().parse_args(["cost", "--images-per-day", "1", "--burst-hours", "1"])
    readme = re.search(r"about USD ([\d.]+) per inference-unit hour", doc_text("README.md"))
    assert float(readme[1]) == prices.inference_unit_hour == cli_default.price_per_iu_hour


def test_the_cost_example_is_what_the_cost_command_computes():
    text = doc_text("docs/model-lifecycle.md")
    example = re.search(
        r"Example, ([\d,]+) images a day in one ([\d.]+)-hour burst, (\d+) inference unit at ([\d.]+): "
        r"always-on ([\d.]+) USD a day \(([\d.]+) per 1,000 images\), on-demand ([\d.]+) \(([\d.]+) "
        r"per 1,000 images\), a (\d+)% saving",
        text,
    )
    assert example, "the cost example of docs/model-lifecycle.md changed: update this test"
    images, hours, units = int(example[1].replace(",", "")), float(example[2]), int(example[3])
    workload = cost.Workload(images_per_day=images, burst_hours=hours, inference_units=units)
    prices = cost.Prices(inference_unit_hour=float(example[4]))
    always, on_demand = (cost.estimate(workload, mode, prices).total for mode in ("always-on", "on-demand"))
    computed = [
        f"{always:.2f}",
        f"{always / images * 1000:.2f}",
        f"{on_demand:.2f}",
        f"{on_demand / images * 1000:.2f}",
        f"{1 - on_demand / always:.0%}".rstrip("%"),
    ]
    assert list(example.groups()[4:]) == computed


def test_reliability_lambda_cost_per_1000_images_is_bench_gb_seconds_at_the_module_price():
    text = doc_text("docs/reliability.md")
    stated = re.search(
        r"([\d.]+) GB-s per 1,000 images against the baseline's ([\d.]+) \(([\d.]+)x\), about USD "
        r"([\d.]+) per 1,000 images at USD ([\d.]+) per GB-s",
        text,
    )
    assert stated, "the Lambda cost sentence of docs/reliability.md changed: update this test"
    gb_seconds, baseline, ratio, usd, price = (float(value) for value in stated.groups())
    assert price == cost.Prices().lambda_gb_second
    assert f"{gb_seconds * price:.2g}" == f"{usd:.2g}" and f"{gb_seconds / baseline:.2f}" == f"{ratio:.2f}"
    model = re.search(
        r"about USD ([\d.]+) of model time per 1,000 images at the cap \((\d+) units x USD ([\d.]+)/h / "
        r"([\d,]+) images/h\)",
        text,
    )
    units, per_hour, images_per_hour = int(model[2]), float(model[3]), int(model[4].replace(",", ""))
    assert per_hour == cost.Prices().inference_unit_hour
    assert images_per_hour == units * config.TPS_PER_INFERENCE_UNIT * 3600
    assert f"{units * per_hour / images_per_hour * 1000:.2f}" == model[1]


def bench_entry(stamp: str) -> str:
    results = (ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    start = results.index(f"## {stamp}")
    end = results.find("\n## ", start + 1)
    return results[start : end if end > 0 else None]


def test_bench_figures_quoted_in_the_docs_are_in_bench_results():
    """Each measured figure (a decimal number) of the paragraph that cites a bench/RESULTS.md entry, and the
    GB-s figures of the Lambda cost sentence, appear in that entry."""
    quoted = []
    for path in DOCS:
        for paragraph in path.read_text(encoding="utf-8").split("\n\n"):
            cited = re.search(r"bench/RESULTS\.md`?, entry of (\d{4}-\d\d-\d\d \d\d:\d\d)", paragraph)
            if cited:
                entry = bench_entry(cited[1])
                figures = re.findall(r"(?<![\d.])(?<!target of )(\d+\.\d+)(?![\d.])", paragraph)  # not a goal
                gb_s = re.search(
                    r"([\d.]+) GB-s per 1,000 images against the baseline's ([\d.]+) \(([\d.]+)x\)",
                    " ".join(path.read_text(encoding="utf-8").split()),
                )
                figures += list(gb_s.groups()) if gb_s else []
                quoted += [(path.name, figure, figure in entry) for figure in figures]
    missing = [item for item in quoted if not item[2]]
    assert len(quoted) >= 5 and not missing, f"figures not in bench/RESULTS.md: {missing}"


# --- statements of the docs that the code defines ------------------------------------------------------------


def test_readme_lists_every_local_run_outcome_the_pipeline_writes():
    """summary.json's outcomes come from LocalPipeline.outcome (with results' words, contract.result_status), .wait
    (`timeout` is wait's default) and .interrupted (after Ctrl-C)."""
    from customlabels.local import pipeline

    tree = ast.parse(Path(pipeline.__file__).read_text())
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name in ("outcome", "wait", "interrupted")
    ]
    literals = {
        node.value
        for function in functions
        for node in ast.walk(function)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"[a-z][a-z-]*:?", node.value)
    }
    from customlabels_runtime import contract

    status = next(
        node
        for node in ast.walk(ast.parse(Path(contract.__file__).read_text()))
        if getattr(node, "name", "") == "result_status"
    )
    literals |= {
        node.value
        for node in ast.walk(status)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and re.fullmatch(r"[a-z][a-z-]*", node.value)
    }
    literals -= {"pending", "error"}  # outcome() says None while pending, and error:<Code> for an error
    outcomes = {"error:<Code>" if literal == "error:" else literal for literal in literals}
    readme = doc_text("README.md")
    listed = re.search(r"`summary\.json` lists each uploaded key with its outcome: (.*?)\.", readme)
    stated = {word for word in re.findall(r"`([^`]+)`", listed[1]) if not word.startswith("-")}  # not options
    assert "timeout" in outcomes and stated == outcomes, f"README: {sorted(stated)}, code: {sorted(outcomes)}"
