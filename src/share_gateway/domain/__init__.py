"""The rules, pure: catalog, identifiers, records, policy, events. No I/O, no clock reads."""
