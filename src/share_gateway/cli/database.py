"""The command line's one door to a node's database: every use of today's ``Store`` and ``LogStore`` is here.

``grant add|list|revoke``, ``catalog sweep``, ``audit verify`` and ``audit redact`` work on the node's database
directly, with or without the node running. When the store's API changes, this module changes with it and the
commands do not. Imported only by the commands that need it: SQLAlchemy is heavy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import TracebackType

from share_gateway.config import NodeConfig
from share_gateway.crypto.keys import SigningKey
from share_gateway.domain.events import Event
from share_gateway.domain.policy import Grant
from share_gateway.gateway.runtime import NodeRuntime
from share_gateway.store.database import migrate, open_database
from share_gateway.store.log import LogStore
from share_gateway.store.repository import GrantRow, Store


class NodeDatabase:
    """A node's database as the commands use it: institutions and grants, the installed catalog, the log.

    ``migrated`` brings the schema up first, for commands that may run before the node ever started (grants, the
    catalog sweep); the log's commands read what a node wrote and leave the schema alone.
    """

    def __init__(self, config: NodeConfig, *, migrated: bool) -> None:
        self._database = open_database(config.database)
        if migrated:
            migrate(self._database)
        self._store = Store(self._database)

    def __enter__(self) -> NodeDatabase:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self._database.dispose()

    # --- institutions and grants ------------------------------------------

    def register_institution(self, institution: str, kind: str, name: str, now: datetime) -> None:
        self._store.register_institution(institution, kind, name, now)

    def add_grant(self, institution: str, grant: Grant, now: datetime) -> int:
        return self._store.add_grant(institution, grant, now)

    def grants(self, institution: str | None) -> list[GrantRow]:
        return self._store.grants(institution)

    def revoke_grant(self, grant_id: int, now: datetime) -> None:
        self._store.revoke_grant(grant_id, now)

    # --- the catalog ---------------------------------------------------------

    def installed_catalog(self) -> bytes | None:
        return self._store.installed_catalog()

    def runtime(self, region: str, key: SigningKey) -> NodeRuntime:
        """The node's runtime on this database, for the conformance sweep; shut its executor down when done."""
        return NodeRuntime(region, key, self._store)

    # --- the log -------------------------------------------------------------

    def log(self) -> LogStore:
        return LogStore(self._database)

    def redact(self, before: datetime, now: datetime, note: Callable[[int, int, int], Event]) -> int:
        return self._store.redact(before, now, note)
