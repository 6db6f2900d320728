"""svc_catalog as its callers see it: the variants behind some SKUs, and the
one refusal of an SKU the catalog does not know. No gRPC here (see `client`)."""

from clients.catalog.types import (
    UNKNOWN_SKU,
    Catalog,
    Lookup,
    Money,
    Variant,
    add_unknown_skus,
    not_in_catalog,
    unknown_skus,
)

__all__ = [
    "UNKNOWN_SKU",
    "Catalog",
    "Lookup",
    "Money",
    "Variant",
    "add_unknown_skus",
    "not_in_catalog",
    "unknown_skus",
]
