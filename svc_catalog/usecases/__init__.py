"""svc_catalog's use cases: one class per aggregate (products, variants,
lookups), each method one unit of work.

Every mutating use case runs through `Units.once`, so a repeated request_id
returns the first result. Lock order, everywhere: the product row first
(`lock=True`), then its variants; so a variant change and an archive of its
product never interleave, and two writers never deadlock.

Reads of single items (a product, a variant, a SKU, a barcode) go through the
cache; every write deletes the keys it affected once its unit of work has
committed (`cache.CatalogCache`). Lists and searches always read the database.
"""
