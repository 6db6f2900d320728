"""svc_user: tenants, users and roles; password login; access and refresh tokens; JWKS."""

# Where it listens by default on one machine (`stockmesh up`); kit reads these
# through the service registry (kit.services).
GRPC_PORT = 50051
METRICS_PORT = 9451
