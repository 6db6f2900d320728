"""svc_procure use cases: one class per aggregate, each method one transaction."""
