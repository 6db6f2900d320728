"""svc_procure: suppliers, supplier items, purchase orders, receiving and replenishment."""
