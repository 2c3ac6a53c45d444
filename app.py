#!/usr/bin/env python3
"""CDK entry point: `npx cdk synth -c model_arn=...` or `python app.py` (writes cdk.out/)."""

import sys

from customlabels.config import ConfigError
from stacks.application import build_app

try:
    build_app().synth()
except ConfigError as error:  # the list of problems, each with its fix: a traceback would only hide it
    sys.exit(str(error))
