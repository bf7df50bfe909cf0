"""The node's use cases, apart from gRPC and the database: servicers convert and delegate here.

``NodeRuntime`` holds what they share (threads, callers, the event log);
``RecordRegistry`` serves agencies, ``InquiryDesk`` serves requesters.
"""

from __future__ import annotations

from dataclasses import dataclass

from share_gateway.catalog import SignedCatalog
from share_gateway.domain.policy import Policy
from share_gateway.gateway.inquiries import Answer, InquiryDesk, InquiryRequest
from share_gateway.gateway.registry import RecordRegistry
from share_gateway.gateway.runtime import Clock, NodeRuntime, utc_now
from share_gateway.store.repository import Store

__all__ = ["Answer", "Clock", "Gateway", "InquiryDesk", "InquiryRequest", "NodeRuntime", "RecordRegistry", "utc_now"]


@dataclass
class Gateway:
    """One node's use cases over one catalog."""

    runtime: NodeRuntime
    catalog: SignedCatalog

    def __post_init__(self) -> None:
        self.policy = Policy(self.catalog.catalog)
        self.registry = RecordRegistry(self.runtime, self.catalog, self.policy)
        self.inquiries = InquiryDesk(self.runtime, self.policy)

    @property
    def store(self) -> Store:
        return self.runtime.store

    async def close(self) -> None:
        await self.runtime.close()
