"""``python -m scraper`` is the ``scraper`` command."""

from .cli import main

main()
