"""The inference function: `handler.py` wires Lambda to `logic.py`; `throughput.py`, `thresholds.py`: its rules."""
