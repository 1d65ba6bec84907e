"""contract-sync's Prefect steps: thin tasks over the rules (`reconcile`) and clients (`blocks`)."""
