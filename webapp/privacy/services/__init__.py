"""Privacy operations: a member's data gathered and written out, accounts erased, data past its period purged."""
