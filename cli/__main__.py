"""`python -m cli ...` is `wuhuan ...` (how `wuhuan dev` starts its children)."""

import sys

from cli.main import main

sys.exit(main())
