"""svc_user: tenants, users and roles; password login; access and refresh tokens; JWKS."""
