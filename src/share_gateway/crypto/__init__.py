"""Keys, signed envelopes and notes, verifiable selective disclosure, and PKI helpers."""
