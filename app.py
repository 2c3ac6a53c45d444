#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth -c model_arn=...` or `python app.py` (writes cdk.out/)."""

from stacks.application import build_app

build_app().synth()
