"""svc_stock: warehouses, stock levels, the ledger, reservations and the live stream."""
