"""svc_procure's rules, standard library only: suppliers and their items,
purchase orders and receipts, money, and the replenishment formula."""
