"""The records database: operators' holds and the customer history (block and store)."""
