"""Docker-free bundling of a Python Lambda folder: pip installs its requirements for the Lambda platform."""

import shutil
import subprocess
import sys
from pathlib import Path

import jsii
from aws_cdk import BundlingOptions, ILocalBundling
from aws_cdk import aws_lambda as lambda_

LAMBDAS_DIR = Path(__file__).resolve().parent.parent / "lambdas"
RUNTIME = lambda_.Runtime.PYTHON_3_14
RUNTIME_PYTHON_VERSION = "3.14"
ARCHITECTURE = lambda_.Architecture.ARM_64


@jsii.implements(ILocalBundling)
class PipInstallBundling:
    """Installs `requirements.txt` as manylinux wheels for the target runtime and architecture, then copies
    the function's own modules. Only wheels are accepted, so nothing is compiled for the wrong platform."""

    def __init__(self, source: Path, python_version: str, platform: str = "manylinux2014_aarch64") -> None:
        self.source = source
        self.python_version = python_version
        self.platform = platform

    def try_bundle(self, output_dir: str, _options: object = None) -> bool:
        requirements = self.source / "requirements.txt"
        if requirements.exists():
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                 "--target", output_dir, "--implementation", "cp", "--python-version", self.python_version,
                 "--platform", self.platform, "--only-binary=:all:", "--no-compile",
                 "--requirement", str(requirements)],
                check=True,
            )
        shutil.copytree(self.source, output_dir, dirs_exist_ok=True,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "requirements.txt"))
        return True


def function_code(name: str) -> lambda_.Code:
    """The asset of `lambdas/<name>/`, bundled with its requirements for the runtime, without Docker."""
    folder = LAMBDAS_DIR / name
    return lambda_.Code.from_asset(
        str(folder),
        exclude=["__pycache__", "*.pyc"],
        bundling=BundlingOptions(image=RUNTIME.bundling_image,
                                 local=PipInstallBundling(folder, RUNTIME_PYTHON_VERSION)),
    )
