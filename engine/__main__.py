"""`python -m engine ...`: see engine/app/cli.py."""
import sys

from engine.app.cli import main

sys.exit(main())
