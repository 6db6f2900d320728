"""svc_procure: suppliers, supplier items, purchase orders, receiving and replenishment."""

# Where it listens by default on one machine (`stockmesh up`); kit reads these
# through the service registry (kit.services).
GRPC_PORT = 50054
METRICS_PORT = 9454
