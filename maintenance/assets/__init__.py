"""The equipment ledger: sites, locations, assets and the devices that report for them."""
