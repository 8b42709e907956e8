"""`python -m grader`: the command line (see `grader.cli`)."""

import sys

from grader.cli import main

sys.exit(main())
