"""`python -m customlabels` is the `customlabels` command."""

import sys

from customlabels.cli import main

sys.exit(main())
