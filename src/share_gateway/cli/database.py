"""The command line's door to a node's database, for the commands that work on it directly.

``grant ... --config``, ``catalog sweep``, ``audit verify`` and ``audit redact``
run with or without the node running. They open the node's store here and go
through the same use cases and repositories the node uses. Imported only by
those commands: SQLAlchemy is heavy.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from share_gateway.config import NodeConfig
from share_gateway.store.database import migrate, open_configured
from share_gateway.store.repositories import Store


@contextmanager
def node_store(config: NodeConfig, *, migrated: bool) -> Iterator[Store]:
    """The node's store, closed when the block ends.

    ``migrated`` brings the schema up first, for commands that may run before the node ever started (grants,
    the catalog sweep); the log's commands read what a node wrote and leave the schema alone.
    """
    database = open_configured(config)
    try:
        if migrated:
            migrate(database)
        yield Store(database)
    finally:
        database.dispose()
