"""svc_order use cases: one method per use case, each owning its transaction."""
