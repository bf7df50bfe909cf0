"""List membership is information: the lists a subject is on today, each with the decision that put it there.

An answer states them for every purpose that may see public information,
public lookup included, wherever the list was decided: a list applies
nationwide. A listing on a list run by notice and objection is in force from
its decision to its end; an entry on the courts' list of dishonest judgment
debtors (Fa Shi [2017] No. 7) is the court's record itself, in force while that
record is disclosed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from share_gateway.domain.catalog import Catalog, ListKind
from share_gateway.domain.listings import Listing, ListingState


@dataclass(frozen=True, slots=True)
class ListMembership:
    list_name: str
    origin_region: str
    # The listing's id, or for the courts' list the record's id.
    listing_id: str
    # The listing decision's document, or the court's decision on the entry.
    decision_reference: str
    listed_on: date | None
    # None: no fixed end (a list without a duration; Art. 1(1) debtors until performance).
    listed_until: date | None


def of_listing(listing: Listing) -> ListMembership:
    """A listing in force as the information an answer states."""
    decision = next((t.document for t in reversed(listing.history) if t.state is ListingState.LISTED), "")
    return ListMembership(
        listing.list_name, listing.origin_region, listing.listing_id, decision, listing.listed_on, listing.ends_on
    )


def courts_entry_lists(catalog: Catalog) -> dict[str, str]:
    """The record types whose records are themselves entries on a courts' list, with that list's name."""
    return {
        criterion.record_type: definition.name
        for definition in catalog.lists.values()
        if definition.kind is ListKind.COURT_DEBTORS
        for criterion in definition.criteria
    }


def memberships(listings: Iterable[Listing], entries: Iterable[ListMembership]) -> tuple[ListMembership, ...]:
    """Listings and courts' entries in one order: by list, origin and id, each once."""
    found = {(m.list_name, m.origin_region, m.listing_id): m for m in (*map(of_listing, listings), *entries)}
    return tuple(found[key] for key in sorted(found))
