"""The repository itself: where it is and what cdk.json says."""

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def cdk_json_context() -> dict:
    return json.loads((ROOT / "cdk.json").read_text())["context"]
