"""`python -m app` runs the distgate CLI."""

import sys

from app.cli import main

sys.exit(main())
