"""`customlabels model inspect MODEL.onnx [--write-spec]`: what onnxruntime sees of an own model (inputs, outputs,
metadata), the spec the pipeline would run it with (its spec file, else its metadata) and every line where the two
do not fit, each naming the field and the fix. Offline; exit 0 when the model can run, 1 when not. `customlabels
model example MODEL.onnx`: a tiny stand-in detector and its spec, to try the onnx backend."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from rich.table import Table

from customlabels.cli.common import console
from customlabels.errors import CommandError


def example_command(args: argparse.Namespace) -> int:
    if not args.onnx_model or args.write_spec:
        raise CommandError("model example writes a model: customlabels model example demo-output/tiny.onnx")
    from customlabels.datasets.example_model import write_example_model
    from customlabels_runtime.onnx_model.spec import spec_path

    target = Path(args.onnx_model)
    if existing := [path for path in (target, spec_path(target)) if path.exists()]:
        raise CommandError(
            f"{existing[0]} exists already: model example never overwrites a model or its spec. "
            f"Fix: give another path, e.g. customlabels model example {target.with_name('example-' + target.name)}"
        )
    try:
        model, spec = write_example_model(target)
    except ModuleNotFoundError as error:
        if error.name != "onnx":
            raise
        raise CommandError(f"model example needs the onnx package ({error}). Fix: pip install onnx==1.20.1") from None
    console.print(f"Wrote {model} (a stand-in that answers one fixed box) and its spec {spec}", soft_wrap=True)
    return 0


def inspect_command(args: argparse.Namespace) -> int:
    if args.action != "inspect":
        raise CommandError(f"MODEL.onnx and --write-spec go with `model inspect`, not `model {args.action}`")
    if not args.onnx_model:
        raise CommandError("model inspect needs the model file. Fix: customlabels model inspect bees.onnx")
    path = Path(args.onnx_model)
    if not path.is_file():
        raise CommandError(f"{path}: no such file. Fix: the path of an .onnx model")
    try:
        from customlabels_runtime.onnx_model.authoring import read_graph, suggested_spec, write_spec
        from customlabels_runtime.onnx_model.model import resolve_spec, spec_document_of
        from customlabels_runtime.onnx_model.spec import SpecError, spec_path
    except ModuleNotFoundError as error:
        if error.name != "onnxruntime":
            raise
        raise CommandError(f"model inspect needs onnxruntime ({error}). Fix: pip install onnxruntime==1.32.0") from None
    try:
        graph = read_graph(path)
    except Exception as error:  # onnxruntime's own errors: not a model it can load
        raise CommandError(f"{path}: onnxruntime cannot load it ({str(error).strip().splitlines()[0]})") from None
    _print_graph(graph)
    if args.write_spec:
        if spec_path(path).exists():
            raise CommandError(f"{spec_path(path)} exists already. Fix: edit it, or delete it to start again")
        written = write_spec(path)
        console.print(
            f"Wrote {written}: check the format and the labels (one per class, in the model's order).", soft_wrap=True
        )
    document = None
    try:
        document = spec_document_of(path)
        source = spec_path(path).name if document is not None else "the model's metadata"
        spec = resolve_spec(graph, document, path.name)
    except SpecError as error:
        if document is not None:  # the user's own spec first: it is what they are to mend
            console.print(f"[bold]Spec[/] (from {spec_path(path).name}, as written):", highlight=False)
            console.print_json(json.dumps(document))
        console.print("[bold]Spec[/]: what the graph suggests:", highlight=False)
        console.print_json(json.dumps(suggested_spec(graph)))
        console.print("[bold red]Does not fit:[/]")
        for problem in error.problems:
            console.print(f"  - {problem}", soft_wrap=True, highlight=False)
        return 1
    console.print(f"[bold]Spec[/] (from {source}):", highlight=False)
    console.print_json(json.dumps(spec.to_document()))
    console.print("[green]The spec fits the graph[/]: the pipeline can run this model (-c backend=onnx).")
    return 0


def _print_graph(graph) -> None:
    for title, tensors in (("Inputs", graph.inputs), ("Outputs", graph.outputs)):
        table = Table(title=title, title_justify="left")
        for column in ("name", "shape", "type"):
            table.add_column(column)
        for tensor in tensors:
            table.add_row(tensor.name, tensor.dims(), tensor.element_type())
        console.print(table)
    if graph.metadata:
        table = Table(title="Metadata", title_justify="left")
        table.add_column("key")
        table.add_column("value")
        for key, value in sorted(graph.metadata.items()):
            table.add_row(key, value if len(value) <= 80 else value[:79] + "…")
        console.print(table)
    else:
        console.print("Metadata: none")
