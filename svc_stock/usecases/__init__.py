"""svc_stock's use cases, one module per area; each method owns its transaction."""
