"""svc_stock's use cases, one module per aggregate; each works through a unit
of work (`ports.StockUnit`), or a reservation batch for granting."""
