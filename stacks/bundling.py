"""Docker-free bundling of a function of `customlabels_runtime`: pip installs its requirements for the Lambda
platform, then copies the package (its shared modules and the function's own subpackage)."""

import hashlib
import shutil
import subprocess
import sys
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


def handler_path(name: str) -> str:
    """The dotted handler of function `name`: `customlabels_runtime.<name>.handler.handler`."""
    return f"{RUNTIME_PACKAGE}.{name}.handler.handler"


def asset_files(name: str) -> list[Path]:
    """What goes into the asset of function `name` from the package: its root modules (the contract), the published
    schemas and the function's own subpackage, not the other function's."""
    root = sorted(RUNTIME_DIR.glob("*.py"))
    schemas = sorted((RUNTIME_DIR / "schemas").glob("*.py")) + sorted((RUNTIME_DIR / "schemas").glob("*.json"))
    own = [path for path in sorted((RUNTIME_DIR / name).rglob("*.py")) if "__pycache__" not in path.parts]
    return root + schemas + own


@jsii.implements(ILocalBundling)
class PipInstallBundling:
    """Installs the function's `requirements.txt` as manylinux wheels for the target runtime and architecture,
    then copies its modules under `customlabels_runtime/`. Only wheels are accepted, so nothing is compiled for
    the wrong platform."""

    def __init__(self, name: str, python_version: str, platform: str = "manylinux2014_aarch64") -> None:
        self.name = name
        self.python_version = python_version
        self.platform = platform

    def try_bundle(self, output_dir: str, _options: object = None) -> bool:
        requirements = RUNTIME_DIR / self.name / "requirements.txt"
        if requirements.exists():
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--disable-pip-version-check",
                    "--target",
                    output_dir,
                    "--implementation",
                    "cp",
                    "--python-version",
                    self.python_version,
                    "--platform",
                    self.platform,
                    "--only-binary=:all:",
                    "--no-compile",
                    "--requirement",
                    str(requirements),
                ],
                check=True,
            )
        for source in asset_files(self.name):
            target = Path(output_dir) / RUNTIME_PACKAGE / source.relative_to(RUNTIME_DIR)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, target)
        return True


def asset_hash(name: str) -> str:
    """The asset's identity: the files it copies, its requirements and the target runtime. The package holds
    both functions, so a hash of the whole folder would change one function's asset for the other's edits."""
    digest = hashlib.sha256(f"{name} {RUNTIME_PYTHON_VERSION} {ARCHITECTURE.name}".encode())
    requirements = RUNTIME_DIR / name / "requirements.txt"
    for path in [*asset_files(name), requirements]:
        digest.update(path.relative_to(RUNTIME_DIR).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() if path.exists() else b"")
    return digest.hexdigest()


def function_code(name: str) -> lambda_.Code:
    """The asset of function `name` (`customlabels_runtime/<name>/`), bundled with its requirements for the
    runtime, without Docker."""
    return lambda_.Code.from_asset(
        str(RUNTIME_DIR),
        asset_hash=asset_hash(name),
        bundling=BundlingOptions(image=RUNTIME.bundling_image, local=PipInstallBundling(name, RUNTIME_PYTHON_VERSION)),
    )
