"""``python -m noether ...`` is the ``noether`` command."""

from .cli import main

main()
