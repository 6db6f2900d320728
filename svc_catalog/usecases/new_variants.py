"""What creating a product with variants and adding a variant share: the
checks of a new variant, the variant it becomes, and the refusal of a SKU or
barcode the tenant already uses."""

from __future__ import annotations

import uuid
from datetime import datetime

from kit.errors import Violations
from svc_catalog import commands, domain, ports
from svc_catalog.domain import Product, Variant, VariantStatus
from svc_catalog.ports import CatalogUnit


def check_new_variant(new: commands.NewVariant, path: str, violations: Violations) -> None:
    domain.check_sku(new.sku, f"{path}.sku", violations)
    domain.check_text(new.display_name, f"{path}.display_name", violations, domain.MAX_NAME)
    domain.check_attributes(new.attributes, f"{path}.attributes", violations)
    domain.check_unit(new.unit_of_measure, f"{path}.unit_of_measure", violations)
    domain.check_money(new.list_price, f"{path}.list_price", violations)
    domain.check_barcode(new.barcode, f"{path}.barcode", violations)


def new_variant(product: Product, new: commands.NewVariant, now: datetime) -> Variant:
    return Variant(
        id=str(uuid.uuid4()),
        tenant_id=product.tenant_id,
        product_id=product.id,
        sku=new.sku,
        display_name=new.display_name,
        attributes=dict(new.attributes),
        unit_of_measure=new.unit_of_measure or domain.DEFAULT_UNIT,
        list_price=new.list_price,
        barcode=new.barcode,
        status=VariantStatus.ACTIVE,
        product_display_name=product.display_name,
        created_at=now,
        updated_at=now,
        archived_at=None,
        version=1,
    )


async def refuse_taken(
    uow: CatalogUnit, tenant_id: str, entries: list[tuple[str, commands.NewVariant]]
) -> None:
    """ALREADY_EXISTS naming the first variant whose SKU or barcode the tenant already uses."""
    skus = await uow.variants.taken_skus(tenant_id, [domain.sku_key(new.sku) for _, new in entries])
    barcodes = await uow.variants.taken_barcodes(
        tenant_id, [domain.gtin14(new.barcode) for _, new in entries if new.barcode]
    )
    for path, new in entries:
        if domain.sku_key(new.sku) in skus:
            raise domain.SkuTaken(new.sku, f"{path}.sku")
        if new.barcode and domain.gtin14(new.barcode) in barcodes:
            raise domain.BarcodeTaken(new.barcode, f"{path}.barcode")


async def add_variant(uow: CatalogUnit, variant: Variant, path: str) -> None:
    """Add; a concurrent writer that took the SKU or barcode since we checked
    makes the unique constraint refuse it, reported the same way."""
    try:
        await uow.variants.add(variant)
    except ports.Duplicate as exc:
        if exc.what == "sku":
            raise domain.SkuTaken(variant.sku, f"{path}.sku") from exc
        raise domain.BarcodeTaken(variant.barcode, f"{path}.barcode") from exc
