"""Federation: the signed manifest of nodes (and, next, peers, fan-out, outbox and witnessing)."""
