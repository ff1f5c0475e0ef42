"""``python -m desktop`` is the ``restyle`` command."""

import sys

from desktop.cli import main

sys.exit(main())
