"""Translation between svc_catalog's protos and its domain values."""

from __future__ import annotations

from google.type import money_pb2

from kit.errors import FieldViolation, InvalidArgument
from kit.protos import timestamp
from stockmesh.catalog.v1 import catalog_pb2
from svc_catalog import commands
from svc_catalog.domain import Money, Product, ProductStatus, Variant, VariantStatus
from svc_catalog.usecases.names import product_etag, product_name, variant_etag, variant_name

PRODUCT_STATUS = {
    ProductStatus.ACTIVE: catalog_pb2.PRODUCT_STATUS_ACTIVE,
    ProductStatus.ARCHIVED: catalog_pb2.PRODUCT_STATUS_ARCHIVED,
}
VARIANT_STATUS = {
    VariantStatus.ACTIVE: catalog_pb2.VARIANT_STATUS_ACTIVE,
    VariantStatus.ARCHIVED: catalog_pb2.VARIANT_STATUS_ARCHIVED,
}
PROTO_PRODUCT_STATUS = {int(v): k for k, v in PRODUCT_STATUS.items()}
PROTO_VARIANT_STATUS = {int(v): k for k, v in VARIANT_STATUS.items()}


# --- resource names --------------------------------------------------------------


def product_id(name: str, field: str = "name") -> str:
    collection, _, product = name.partition("/")
    if collection != "products" or not product or "/" in product or product == "-":
        raise InvalidArgument([FieldViolation(field, "must look like products/{product_id}")])
    return product


def variant_ids(name: str, field: str = "name") -> tuple[str, str]:
    parts = name.split("/")
    if len(parts) != 4 or parts[0] != "products" or parts[2] != "variants" or "" in parts or "-" in parts:
        raise InvalidArgument(
            [FieldViolation(field, "must look like products/{product_id}/variants/{variant_id}")]
        )
    return parts[1], parts[3]


def variants_parent(name: str, field: str = "parent") -> str | None:
    """The product whose variants to list; None for "products/-" (every product)."""
    return None if name == "products/-" else product_id(name, field)


# --- values ------------------------------------------------------------------------


def money(value: money_pb2.Money, present: bool) -> Money:
    """An unset price becomes Money("", 0, 0), which validation calls "required"."""
    if not present:
        return Money("", 0, 0)
    return Money(value.currency_code, value.units, value.nanos)


def new_variant(value: catalog_pb2.Variant) -> commands.NewVariant:
    return commands.NewVariant(
        sku=value.sku,
        display_name=value.display_name,
        attributes=dict(value.attributes),
        unit_of_measure=value.unit_of_measure,
        list_price=money(value.list_price, value.HasField("list_price")),
        barcode=value.barcode,
    )


def product_status(value: int) -> ProductStatus | None:
    if value == catalog_pb2.PRODUCT_STATUS_UNSPECIFIED:
        return None
    if value not in PROTO_PRODUCT_STATUS:
        raise InvalidArgument([FieldViolation("status", "not a known product status")])
    return PROTO_PRODUCT_STATUS[value]


def variant_status(value: int) -> VariantStatus | None:
    if value == catalog_pb2.VARIANT_STATUS_UNSPECIFIED:
        return None
    if value not in PROTO_VARIANT_STATUS:
        raise InvalidArgument([FieldViolation("status", "not a known variant status")])
    return PROTO_VARIANT_STATUS[value]


def variant(value: Variant) -> catalog_pb2.Variant:
    price = value.list_price
    return catalog_pb2.Variant(
        name=variant_name(value.product_id, value.id),
        sku=value.sku,
        display_name=value.display_name,
        attributes=value.attributes,
        unit_of_measure=value.unit_of_measure,
        list_price=money_pb2.Money(currency_code=price.currency_code, units=price.units, nanos=price.nanos),
        barcode=value.barcode,
        status=VARIANT_STATUS[value.status],
        product_display_name=value.product_display_name,
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
        archive_time=timestamp(value.archived_at),
        etag=variant_etag(value),
    )


def product(value: Product) -> catalog_pb2.Product:
    return catalog_pb2.Product(
        name=product_name(value.id),
        display_name=value.display_name,
        description=value.description,
        brand=value.brand,
        category=value.category,
        status=PRODUCT_STATUS[value.status],
        variants=[variant(v) for v in value.variants],
        create_time=timestamp(value.created_at),
        update_time=timestamp(value.updated_at),
        archive_time=timestamp(value.archived_at),
        etag=product_etag(value),
    )
