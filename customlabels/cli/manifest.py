"""`customlabels manifest rewrite|validate|split|stats`: a Ground Truth manifest made ready for training."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.table import Table

from customlabels.cli.common import POSITIVE, console, input_file, input_folder
from customlabels.errors import CommandError
from customlabels.escaping import shown


def register(commands: argparse._SubParsersAction) -> None:
    manifests = commands.add_parser(
        "manifest",
        help="rewrite, validate, split, merge or count a Ground Truth manifest",
        description="Tools for a data set's SageMaker Ground Truth manifest (JSON lines) before training a "
        "Custom Labels model. See docs/manifests.md.",
    )
    manifest_commands = manifests.add_subparsers(dest="manifest_command", required=True, metavar="COMMAND")
    _register_rewrite(manifest_commands)
    _register_validate(manifest_commands)
    _register_split(manifest_commands)
    _register_merge(manifest_commands)
    _register_stats(manifest_commands)


def _register_rewrite(commands: argparse._SubParsersAction) -> None:
    rewrite = commands.add_parser(
        "rewrite",
        help="point source-refs at a new bucket or prefix",
        description="Replaces the --from prefix of every source-ref with --to (after copying the images, e.g. "
        "`aws s3 sync`). Writes nothing if a line is not JSON or not under --from; lists those lines.",
    )
    rewrite.add_argument("source", metavar="IN")
    rewrite.add_argument("target", metavar="OUT")
    rewrite.add_argument("--from", dest="old", required=True, metavar="s3://OLD/PREFIX")
    rewrite.add_argument("--to", dest="new", required=True, metavar="s3://NEW/PREFIX")
    rewrite.set_defaults(func=_manifest_rewrite)


def _register_validate(commands: argparse._SubParsersAction) -> None:
    validate = commands.add_parser(
        "validate",
        help="check a manifest against the Custom Labels rules",
        description="JSON lines, a source-ref s3://bucket/key on each, one bucket, at most 250,000 lines, 1-250 "
        "labels (2 for image classification), 0-50 boxes per image, boxes inside the image, one kind "
        "of labels. Lists every problem with its line number and exits 1 if there is any.",
    )
    validate.add_argument("file")
    validate.add_argument("--limit", type=POSITIVE, default=200, help="show at most this many problems (default 200)")
    validate.set_defaults(func=_manifest_validate)


def _register_split(commands: argparse._SubParsersAction) -> None:
    splitting = commands.add_parser(
        "split",
        help="split into training and test manifests, stratified by label",
        description="Splits the images into IN's stem .train and .test manifests (next to IN, or in --out-dir), "
        "stratified by each image's rarest label so every label lands in both sets where it can "
        "(scikit-learn's train_test_split). Lines keep their order and text.",
    )
    splitting.add_argument("source", metavar="IN")
    splitting.add_argument("--test", type=float, default=0.2, help="share of images for testing (default 0.2)")
    splitting.add_argument("--seed", type=int, default=0, help="random seed, for the same split again (default 0)")
    splitting.add_argument("--out-dir", help="where to write the two manifests (default: next to IN)")
    splitting.add_argument(
        "--images",
        metavar="DIR",
        help="also link each set's images from DIR into folders of their own beside the manifests (IN's stem "
        ".train-images/ and .test-images/, same relative paths), to run a model on the test images alone",
    )
    splitting.set_defaults(func=_manifest_split)


def _register_merge(commands: argparse._SubParsersAction) -> None:
    merging = commands.add_parser(
        "merge",
        help="fold a reviewed manifest into its base, by image",
        description="Writes --out: BASE's lines in order, each replaced by REVIEWED's line of the same image, "
        "then REVIEWED's lines for new images. Lines are copied as written, except that a reviewed line in "
        "another bucket than BASE's (a review of the pipeline's copies, as `review export` writes it) is "
        "matched to BASE's image by its path below the two prefixes and given BASE's source-ref: a "
        "manifest's images live in one bucket. REVIEWED may name an image once only.",
    )
    merging.add_argument("base", metavar="BASE")
    merging.add_argument("reviewed", metavar="REVIEWED")
    merging.add_argument("--out", required=True, metavar="NEW", help="the merged manifest to write")
    merging.set_defaults(func=_manifest_merge)


def _register_stats(commands: argparse._SubParsersAction) -> None:
    statistics = commands.add_parser(
        "stats",
        help="images and boxes per label, with a bar chart",
        description="Counts images and boxes per label and images without labels; draws them as a bar chart PNG.",
    )
    statistics.add_argument("file")
    statistics.add_argument(
        "--chart",
        metavar="PNG",
        type=_chart_path,
        help="where to write the chart: .png, .svg or .pdf (default FILE's stem.stats.png)",
    )
    statistics.set_defaults(func=_manifest_stats)


CHART_SUFFIXES = (".png", ".svg", ".pdf")


def _chart_path(text: str) -> Path:
    """An argparse type: a file name that matplotlib writes in a format a browser shows."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a folder: give a file name such as {path / 'stats.png'}")
    if path.suffix.lower() not in CHART_SUFFIXES:
        raise argparse.ArgumentTypeError(f"{text}: give a file name ending in {', '.join(CHART_SUFFIXES)}")
    return path


def _tools():
    """The manifest tools, imported when a command runs (scikit-learn and matplotlib make `--help` slow)."""
    from customlabels.datasets import manifest_tools

    return manifest_tools


def _manifest_rewrite(args: argparse.Namespace) -> int:
    tools = _tools()
    try:
        count = tools.rewrite(Path(args.source), Path(args.target), args.old, args.new)
    except tools.ManifestToolError as error:
        raise CommandError(str(error)) from None
    console.print(f"Rewrote {count} line(s): {args.old} -> {args.new}, in {args.target}", soft_wrap=True)
    return 0


def _manifest_validate(args: argparse.Namespace) -> int:
    tools = _tools()
    with console.status(f"Checking {args.file}..."):
        try:
            problems = tools.validate(Path(args.file))
        except tools.ManifestToolError as error:
            raise CommandError(str(error)) from None
    if not problems:
        console.print(
            f"[green]{args.file}: no problems[/] (the Custom Labels rules in docs/manifests.md)", soft_wrap=True
        )
        return 0
    table = Table(title=f"{len(problems)} problem(s) in {args.file}")
    for column in ("line", "rule", "problem"):
        table.add_column(column, overflow="fold")
    for problem in problems[: args.limit]:
        table.add_row("-" if problem.line is None else str(problem.line), problem.rule, shown(problem.message))
    console.print(table)
    if len(problems) > args.limit:
        console.print(f"... and {len(problems) - args.limit} more (--limit)")
    lines = {problem.line for problem in problems if problem.line is not None}
    console.print(
        f"[red]{len(problems)} problem(s) on {len(lines)} line(s).[/] Fix them before creating a "
        "dataset; upper-case rules are Custom Labels' own error codes."
    )
    return 1


def _manifest_split(args: argparse.Namespace) -> int:
    tools = _tools()
    source = Path(args.source)
    try:
        entries = tools.read_valid(source)
        train, test = tools.split(entries, args.test, args.seed)
    except tools.ManifestToolError as error:
        raise CommandError(str(error)) from None
    out = Path(args.out_dir) if args.out_dir else source.parent
    out.mkdir(parents=True, exist_ok=True)
    if args.images:
        _link_split_images(args, out / source.stem, {"train": train, "test": test})
    paths = {}
    for part, lines in (("train", train), ("test", test)):
        paths[part] = out / f"{source.stem}.{part}{source.suffix or '.manifest'}"
        paths[part].write_text("".join(line + "\n" for line, _ in lines), encoding="utf-8")
    counts = {part: tools.stats([entry for _, entry in lines]) for part, lines in (("train", train), ("test", test))}
    table = Table(title=f"{len(train)} training and {len(test)} test images (seed {args.seed})")
    for column in ("label", "train images", "test images", "train boxes", "test boxes"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label in tools.stats([entry for _, entry in entries]).labels:
        cells = [counts[part].labels.get(label, tools.LabelCount()) for part in ("train", "test")]
        table.add_row(
            shown(label), str(cells[0].images), str(cells[1].images), str(cells[0].boxes), str(cells[1].boxes)
        )
    console.print(table)
    missing = [label for label in counts["train"].labels if label not in counts["test"].labels]
    if missing:
        console.print(
            f"[yellow]No test image for {shown(', '.join(missing))}: Custom Labels needs each label in both "
            "sets; add images of it or raise --test.[/]"
        )
    console.print(f"Training set: {paths['train']}\nTest set: {paths['test']}", soft_wrap=True)
    return 0


def _link_split_images(args: argparse.Namespace, stem: Path, parts: dict) -> None:
    from customlabels.datasets.local_images import MissingImagesError, link_images

    images = input_folder("--images", args.images)
    for part, lines in parts.items():
        folder = stem.with_name(f"{stem.name}.{part}-images")
        try:
            count = link_images([entry for _, entry in lines], images, folder)
        except MissingImagesError as error:
            raise CommandError(str(error)) from None
        console.print(f"{count} {part} images in {shown(str(folder))}/", soft_wrap=True, highlight=False)


def _manifest_merge(args: argparse.Namespace) -> int:
    from customlabels.datasets.manifest import ManifestError
    from customlabels.datasets.manifest_merge import merge_files

    for name, value in (("BASE", args.base), ("REVIEWED", args.reviewed)):
        input_file(name, value)
    try:
        merged = merge_files(Path(args.base), Path(args.reviewed), Path(args.out))
    except ManifestError as error:
        raise CommandError(str(error)) from None
    if merged.moved:
        reviewed_prefix, base_prefix = merged.moved
        console.print(
            f"REVIEWED's images in {shown(reviewed_prefix)} were read as BASE's in {shown(base_prefix)} (the same "
            "path below both): their lines name BASE's source-refs, since a manifest's images live in one bucket",
            soft_wrap=True,
        )
    console.print(
        f"{args.out}: {len(merged.lines)} line(s): {merged.replaced} replaced, {merged.added} added, "
        f"{merged.kept} kept. Check it with `customlabels manifest validate {args.out}`.",
        soft_wrap=True,
    )
    return 0


def _manifest_stats(args: argparse.Namespace) -> int:
    tools = _tools()
    source = Path(args.file)
    try:
        result = tools.stats([entry for _, entry in tools.read_valid(source)])
    except tools.ManifestToolError as error:
        raise CommandError(str(error)) from None
    console.print(
        f"{source}: {result.images} images, {result.boxes} boxes, {len(result.labels)} labels", soft_wrap=True
    )
    table = Table()
    for column in ("label", "images", "boxes"):
        table.add_column(column, justify="left" if column == "label" else "right")
    for label, count in result.labels.items():
        table.add_row(shown(label), str(count.images), str(count.boxes))
    if result.images_without_labels:
        table.add_row("[i](no label)[/]", str(result.images_without_labels), "0")
    console.print(table)
    chart = args.chart or source.with_name(f"{source.stem}.stats.png")
    tools.stats_chart(result, f"{source.name}: images and boxes per label", chart)
    console.print(f"Chart: {chart}", soft_wrap=True)
    return 0


def checked_manifest_lines(option: str, value: str) -> list[str]:
    """The manifest's lines once `manifest validate` finds no problem in them; else one error listing the first."""
    from customlabels.datasets import manifest_tools

    path = input_file(option, value)
    problems = manifest_tools.validate(path)
    if problems:
        shown = "\n".join(f"  line {p.line or '-'}: {p.rule}: {p.message}" for p in problems[:5])
        raise CommandError(
            f"{option} {path}: {len(problems)} problem(s), nothing sent:\n{shown}\nFix: correct "
            f"them (`customlabels manifest validate {path}` lists all)"
        )
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
