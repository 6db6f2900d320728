"""svc_stock: warehouses, stock levels, the ledger, reservations and the live stream."""

# Where it listens by default on one machine (`stockmesh up`); kit reads these
# through the service registry (kit.services).
GRPC_PORT = 50053
METRICS_PORT = 9453
