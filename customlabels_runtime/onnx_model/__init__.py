"""Your own ONNX model behind the pipeline (docs/own-model.md): its spec, the image's preparation for it, the
decoding of its outputs into the result contract's labels. numpy, Pillow and onnxruntime only, so that the Lambda
asset carries it; the function (`customlabels_runtime.onnx_inference`) and the tool (`customlabels model inspect`,
the local twin) both run it."""
