"""The inference function: `handler.py` wires Lambda to `logic.py`; `pacing.py` and `thresholds.py` are its rules."""
