"""python -m cpmlab."""

import sys

from cpmlab.cli.main import main

sys.exit(main())
