"""bench/onnx.py's inputs (never its times): the detector is of the size and shape it claims and the onnx backend
accepts its spec; the lifecycle profiles become the cost formula's workloads as they are."""

import numpy as np
import onnxruntime
import pytest

from bench import lifecycle
from bench import onnx as bench_onnx
from customlabels_runtime.onnx_model.model import OwnModel

pytestmark = pytest.mark.unit


def test_the_detector_is_a_640_px_yolo_raw_model_of_a_few_megabytes_the_backend_accepts(tmp_path):
    path = bench_onnx.detector(tmp_path)
    assert 5 < path.stat().st_size / 1e6 < 15
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (output,) = session.run(None, {"images": np.zeros((1, 3, 640, 640), np.float32)})
    assert output.shape == (1, 6, 80 * 80 + 40 * 40 + 20 * 20)
    assert (output[0, :4] >= 0).all() and ((output[0, 4:] > 0) & (output[0, 4:] < 1)).all()
    model = OwnModel.from_file(path)
    assert (model.spec.format, model.spec.input.width, model.spec.input.resize) == ("yolo-raw", 640, "letterbox")


def test_the_profiles_are_the_cost_formulas_workloads():
    shapes = {profile.name: bench_onnx._shape(profile) for profile in lifecycle.PROFILES}
    assert shapes["trickle, 1 image / 5 min"] == {"burst_hours": pytest.approx(24), "bursts_per_day": 1}
    assert shapes["3 bursts a day (3 x 1,000)"] == {"burst_hours": pytest.approx(1000 / 20 / 3600), "bursts_per_day": 3}
    assert shapes["10,000-image burst"] == {"burst_hours": pytest.approx(10_000 / 50 / 3600), "bursts_per_day": 1}
