"""The code that runs in the pipeline's Lambda functions: `inference/` and `model_manager/`, each a `handler.py`
(wiring only) over plain logic modules, and `contract.py`, the rules they share with the tool and the stack.

Bundled into each function's asset by `stacks/bundling.py` and shipped next to `customlabels` in the wheel. It
never imports `customlabels`: the dependency points from the tool to the function code, not back.
"""
