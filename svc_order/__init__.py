"""svc_order: sales orders, stock reservations, shipping, returns and channel sales sync."""
