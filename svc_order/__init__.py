"""svc_order: sales orders, stock reservations, shipping, returns and channel sales sync."""

# Where it listens by default on one machine (`stockmesh up`); kit reads these
# through the service registry (kit.services).
GRPC_PORT = 50055
METRICS_PORT = 9455
