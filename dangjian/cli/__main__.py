"""``python -m dangjian.cli``: the ``dangjian`` command."""

from . import main

main()
