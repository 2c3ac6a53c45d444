"""A small detector fitted on this CPU from a Ground Truth manifest, written as an ONNX model for the onnx backend:
the "DIY" model the demo compares with Custom Labels, as the bee blog compares its own detector (docs/diy-model.md).

`grid` is the model itself in numpy (pre-processing, features, prediction), `fit` learns its weights with
scikit-learn, `graph` writes the same computation as an ONNX graph with its `<model>.onnx.json` spec."""
