"""``python -m atendimento``: the same as the ``atendimento`` command."""

import sys

from atendimento.cli.main import main

sys.exit(main())
