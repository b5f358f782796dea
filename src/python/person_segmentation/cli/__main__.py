"""``python -m person_segmentation.cli``: the command line."""

import sys

from person_segmentation.cli import main

sys.exit(main())
