"""Docker-free bundling of a function of `customlabels_runtime`: pip installs its requirements for the Lambda
platform (once per set of pins: the install is cached), then copies the package (its shared modules and the
function's own subpackages) and any files bundled with it (the onnx backend's model)."""

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

RUNTIME_PACKAGE = "customlabels_runtime"
RUNTIME_DIR = Path(__file__).resolve().parent.parent / RUNTIME_PACKAGE
RUNTIME = lambda_.Runtime.PYTHON_3_14
RUNTIME_PYTHON_VERSION = "3.14"
ARCHITECTURE = lambda_.Architecture.ARM_64
IGNORED = ("__pycache__", "*.pyc", "requirements.txt")
SUBPACKAGES = {"onnx_inference": ("onnx_inference", "inference", "onnx_model")}
"""The subpackages a function's asset holds besides its own (default: its own only)."""
PLATFORMS = {"onnx_inference": "manylinux_2_28_aarch64"}
"""pip's platform per function: onnxruntime's aarch64 wheels for cp314 are manylinux_2_28 (none for 2014)."""
DEFAULT_PLATFORM = "manylinux2014_aarch64"


def handler_path(name: str) -> str:
    """The dotted handler of function `name`: `customlabels_runtime.<name>.handler.handler`."""
    return f"{RUNTIME_PACKAGE}.{name}.handler.handler"


def asset_files(name: str) -> list[Path]:
    """What goes into the asset of function `name` from the package: its root modules (the contract), the published
    schemas and the function's own subpackages, not the other functions'."""
    root = sorted(RUNTIME_DIR.glob("*.py"))
    schemas = sorted((RUNTIME_DIR / "schemas").glob("*.py")) + sorted((RUNTIME_DIR / "schemas").glob("*.json"))
    own = [
        path
        for folder in SUBPACKAGES.get(name, (name,))
        for path in sorted((RUNTIME_DIR / folder).rglob("*.py"))
        if "__pycache__" not in path.parts
    ]
    return root + schemas + own


def cache_root() -> Path:
    """Where installed requirements are kept between synths: $CUSTOMLABELS_CACHE, else ~/.cache/customlabels."""
    configured = os.environ.get("CUSTOMLABELS_CACHE")
    base = Path(configured) if configured else Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return (base if configured else base / "customlabels") / "lambda-requirements"


def installed_requirements(requirements: Path, python_version: str, platform: str) -> Path:
    """The requirements installed for the Lambda platform, from the cache when these exact pins were installed
    before (the key: the file's text, the platform and the Python version). Installed into a temporary folder and
    renamed into place, so that two synths at once never see half an install."""
    key = hashlib.sha256(f"{platform} {python_version}\n".encode() + requirements.read_bytes()).hexdigest()[:32]
    target = cache_root() / key
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=target.parent))
    subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"),
            *("--target", str(staging), "--implementation", "cp", "--python-version", python_version),
            *("--platform", platform, "--only-binary=:all:", "--no-compile", "--requirement", str(requirements)),
        ],
        check=True,
    )
    try:
        staging.rename(target)
    except OSError:  # another synth finished first: its install is the same
        shutil.rmtree(staging, ignore_errors=True)
    return target


@jsii.implements(ILocalBundling)
class PipInstallBundling:
    """Installs the function's `requirements.txt` as manylinux wheels for the target runtime and architecture,
    then copies its modules under `customlabels_runtime/` and its bundled files. Only wheels are accepted, so
    nothing is compiled for the wrong platform."""

    def __init__(
        self,
        name: str,
        python_version: str,
        platform: str = DEFAULT_PLATFORM,
        bundled: Mapping[str, Path] | None = None,
    ) -> None:
        self.name = name
        self.python_version = python_version
        self.platform = platform
        self.bundled = dict(bundled or {})

    def try_bundle(self, output_dir: str, _options: object = None) -> bool:
        requirements = RUNTIME_DIR / self.name / "requirements.txt"
        if requirements.exists():
            installed = installed_requirements(requirements, self.python_version, self.platform)
            shutil.copytree(installed, output_dir, dirs_exist_ok=True)
        for source in asset_files(self.name):
            target = Path(output_dir) / RUNTIME_PACKAGE / source.relative_to(RUNTIME_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        for relative, source in self.bundled.items():
            target = Path(output_dir) / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return True


def asset_hash(name: str, bundled: Mapping[str, Path] | None = None) -> str:
    """The asset's identity: the files it copies, its requirements and the target runtime. The package holds
    both functions, so a hash of the whole folder would change one function's asset for the other's edits."""
    digest = hashlib.sha256(f"{name} {RUNTIME_PYTHON_VERSION} {ARCHITECTURE.name}".encode())
    requirements = RUNTIME_DIR / name / "requirements.txt"
    for path in [*asset_files(name), requirements]:
        digest.update(path.relative_to(RUNTIME_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"")
    for relative, source in sorted((bundled or {}).items()):
        digest.update(relative.encode() + b"\0")
        with source.open("rb") as file:
            digest.update(hashlib.file_digest(file, "sha256").digest())
    return digest.hexdigest()


def function_code(name: str, bundled: Mapping[str, Path] | None = None) -> lambda_.Code:
    """The asset of function `name` (`customlabels_runtime/<name>/`), bundled with its requirements for the
    runtime, without Docker; `bundled`: more files, by their path in the asset."""
    return lambda_.Code.from_asset(
        str(RUNTIME_DIR),
        asset_hash=asset_hash(name, bundled),
        bundling=BundlingOptions(
            image=RUNTIME.bundling_image,
            local=PipInstallBundling(
                name, RUNTIME_PYTHON_VERSION, PLATFORMS.get(name, DEFAULT_PLATFORM), bundled=bundled
            ),
        ),
    )
