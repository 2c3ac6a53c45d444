"""The model manager: `handler.py` wires Lambda to the rules in `logic.py`."""
