"""``python -m aflab.cli`` runs the aflab command line."""

from aflab.cli.main import main

main()
