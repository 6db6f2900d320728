"""What callers ask svc_catalog to do, as plain values; the use cases take these.

Optional fields of the update commands are None when the field mask leaves
them out.
"""

from __future__ import annotations

from dataclasses import dataclass

from svc_catalog.domain import Money, ProductStatus, VariantStatus


@dataclass(frozen=True)
class NewVariant:
    sku: str
    display_name: str
    attributes: dict[str, str]
    unit_of_measure: str  # "" means "EA"
    list_price: Money  # Money("", 0, 0) when the request left it unset
    barcode: str


@dataclass(frozen=True)
class CreateProduct:
    display_name: str
    description: str
    brand: str
    category: str
    variants: tuple[NewVariant, ...]


@dataclass(frozen=True)
class UpdateProduct:
    product_id: str
    etag: str
    display_name: str | None = None
    description: str | None = None
    brand: str | None = None
    category: str | None = None


@dataclass(frozen=True)
class ChangeProductStatus:
    """Archive or unarchive a product."""

    product_id: str
    etag: str


@dataclass(frozen=True)
class CreateVariant:
    product_id: str
    variant: NewVariant


@dataclass(frozen=True)
class UpdateVariant:
    product_id: str
    variant_id: str
    etag: str
    display_name: str | None = None
    attributes: dict[str, str] | None = None
    list_price: Money | None = None
    barcode: str | None = None  # "" clears it


@dataclass(frozen=True)
class ChangeVariantStatus:
    """Archive or unarchive a variant."""

    product_id: str
    variant_id: str
    etag: str


@dataclass(frozen=True)
class ListProducts:
    page_size: int
    page_token: str
    status: ProductStatus | None
    query: str
    brand: str
    category: str


@dataclass(frozen=True)
class ListVariants:
    product_id: str | None  # None: the variants of every product ("products/-")
    page_size: int
    page_token: str
    status: VariantStatus | None
    query: str
