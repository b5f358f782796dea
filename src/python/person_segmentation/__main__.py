"""``python -m person_segmentation`` runs the command line."""

import sys

from person_segmentation.cli import main

sys.exit(main())
