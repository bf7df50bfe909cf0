"""Registering institutions and their grants: what an operator does before a caller may submit or inquire.

Operators run these from the CLI on the node's database; the demo, the tests
and the benchmarks enrol their callers the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from share_gateway.domain.policy import Grant
from share_gateway.store.repositories import Store
from share_gateway.store.unit_of_work import UnitOfWork


def enrol(
    store: Store, institution: str, grants: Sequence[Grant], now: datetime, kind: str | None = None, name: str = ""
) -> list[int]:
    """Register the institution's kind (when given) and add its grants, in one transaction; the grants' ids.

    An institution must be registered (now or before) to hold a grant.
    """

    def work(tx: UnitOfWork) -> list[int]:
        if kind:
            store.grants.register(tx, institution, kind, name or institution, now)
        return [store.grants.add(tx, institution, grant, now) for grant in grants]

    return store.write(work)


def revoke_grant(store: Store, grant_id: int, now: datetime) -> None:
    store.write(lambda tx: store.grants.revoke(tx, grant_id, now))
