"""svc_catalog: products, variants, SKUs and barcodes."""
