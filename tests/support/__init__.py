"""What the tests share that is not a fixture, one module per concern (`from support.images import image_bytes`).

Fixtures stay in tests/conftest.py; a helper that one test module uses stays in that module. No test module
imports another. The layout and the rule for where a new helper goes: docs/testing.md.
"""
