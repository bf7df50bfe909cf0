"""``python -m share_gateway.cli``: the same command as the ``share-gateway`` script."""

from share_gateway.cli import main

main()
