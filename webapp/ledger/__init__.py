"""The ledger: an immutable double-entry record of every movement of money."""
