"""contract-sync's rules as plain functions over plain data and DataFrames (no I/O, no Prefect)."""
