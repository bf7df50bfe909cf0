"""The verifiable log: RFC 9162 Merkle tree, proofs, checkpoints. Pure: storage feeds it node hashes."""
