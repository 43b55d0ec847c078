"""The credentials vault: secrets per license NFT, envelope-encrypted, with a hash-chained
audit log. See docs/vault.md for the design and the threat model."""
