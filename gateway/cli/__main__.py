"""``python -m gateway.cli ...``: the same as ``wasmtask ...``."""

import sys

from gateway.cli import main

sys.exit(main())
