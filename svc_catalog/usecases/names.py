"""Resource names and etags of products and variants (AIP-122, AIP-154)."""

from __future__ import annotations

from kit import etag
from svc_catalog.domain import Product, Variant


def product_name(product_id: str) -> str:
    return f"products/{product_id}"


def variant_name(product_id: str, variant_id: str) -> str:
    return f"products/{product_id}/variants/{variant_id}"


def product_etag(product: Product) -> str:
    return etag.etag(product_name(product.id), product.version)


def variant_etag(variant: Variant) -> str:
    return etag.etag(variant_name(variant.product_id, variant.id), variant.version)
