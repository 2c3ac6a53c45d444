"""The inference function of the onnx backend: the inference function's logic (`customlabels_runtime.inference`)
with the own model (`customlabels_runtime.onnx_model`) answering in place of DetectCustomLabels."""
