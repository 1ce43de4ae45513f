"""Run the ``commonshed`` console script as ``python -m commonshed``."""

from commonshed.cli import main

main()
