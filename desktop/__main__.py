"""``python -m desktop`` is the ``restyle`` command."""

import sys

from desktop.launcher import main

sys.exit(main())
