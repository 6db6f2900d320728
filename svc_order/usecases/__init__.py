"""svc_order use cases, one module per aggregate: each use case opens its units of work
through `kit.uow.Units` and talks to svc_catalog and svc_stock through ports."""
