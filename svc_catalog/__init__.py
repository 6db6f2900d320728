"""svc_catalog: products, variants, SKUs and barcodes."""

# Where it listens by default on one machine (`stockmesh up`); kit reads these
# through the service registry (kit.services).
GRPC_PORT = 50052
METRICS_PORT = 9452
