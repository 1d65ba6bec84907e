"""contract-sync's Prefect steps: thin tasks over the rules (`contract_sync`) and the clients."""
