"""Variants of a product: add, read, list, update, archive, unarchive.

Each write locks its product's row first (`lock=True`), then the variant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from kit import idempotency, paging
from kit.auth import Principal
from kit.errors import NotFound, Violations
from kit.paging import Page
from kit.uow import Units, revise
from svc_catalog import commands, domain, ports
from svc_catalog.domain import Product, Variant
from svc_catalog.ports import CatalogUnit
from svc_catalog.usecases import listing
from svc_catalog.usecases.cache import VARIANT, CatalogCache
from svc_catalog.usecases.names import product_name, variant_name
from svc_catalog.usecases.new_variants import add_variant, check_new_variant, new_variant, refuse_taken
from svc_catalog.usecases.status import change_status


class Variants:
    def __init__(self, units: Units[CatalogUnit], cache: CatalogCache) -> None:
        self.units = units
        self.cache = cache

    async def create_variant(self, who: Principal, request_id: str, cmd: commands.CreateVariant) -> Variant:
        violations = Violations()
        check_new_variant(cmd.variant, "variant", violations)
        violations.raise_if_any()
        create = self.units.once(idempotency.Key(who.tenant_id, request_id, "CreateVariant"), cmd, Product)

        async def work(uow: CatalogUnit) -> Product:
            product = await uow.products.get(who.tenant_id, cmd.product_id, lock=True)
            if product is None:
                raise NotFound("product", product_name(cmd.product_id))
            domain.must_be_active(product)
            await refuse_taken(uow, who.tenant_id, [("variant", cmd.variant)])
            variant = new_variant(product, cmd.variant, self.units.now())
            await add_variant(uow, variant, "variant")
            grown = domain.with_variant(product, variant)
            await uow.products.refresh_search_text(grown)
            return replace(grown, variants=(variant,))  # the product, with only the new variant

        product = await create(work)
        await self.cache.written(product)
        return product.variants[0]

    async def get_variant(self, who: Principal, product_id: str, variant_id: str) -> Variant:
        async def load() -> Variant | None:
            async with self.units.read() as uow:
                return await uow.variants.get(who.tenant_id, product_id, variant_id)

        key = self.cache.variant(who.tenant_id, variant_id)
        variant = await self.cache.cache.get_or_load(key, load, VARIANT.encode, VARIANT.decode)
        if variant is None or variant.product_id != product_id:
            raise NotFound("variant", variant_name(product_id, variant_id))
        return variant

    async def list_variants(self, who: Principal, query: commands.ListVariants) -> Page[Variant]:
        size = paging.page_size(query.page_size)
        listing.check_query(query.query)
        words = domain.words(query.query)
        filters = paging.filters_digest(query.product_id, query.status, words)
        cursor = paging.cursor_for(query.page_token, filters, {"after": str})
        async with self.units.read() as uow:
            if query.product_id is not None and not await uow.products.exists(
                who.tenant_id, query.product_id
            ):
                raise NotFound("product", product_name(query.product_id))
            found = await uow.variants.list(
                who.tenant_id,
                product_id=query.product_id,
                after=cursor["after"] if cursor else "",
                limit=size + 1,
                status=query.status,
                words=words,
            )
        return paging.page_of(found, size, lambda last: {"after": domain.sku_key(last.sku), "f": filters})

    async def update_variant(self, who: Principal, request_id: str, cmd: commands.UpdateVariant) -> Variant:
        violations = Violations()
        if cmd.display_name is not None:
            domain.check_text(cmd.display_name, "variant.display_name", violations, domain.MAX_NAME)
        if cmd.attributes is not None:
            domain.check_attributes(cmd.attributes, "variant.attributes", violations)
        if cmd.list_price is not None:
            domain.check_money(cmd.list_price, "variant.list_price", violations)
        if cmd.barcode is not None:
            domain.check_barcode(cmd.barcode, "variant.barcode", violations)
        violations.raise_if_any()
        update = self.units.once(idempotency.Key(who.tenant_id, request_id, "UpdateVariant"), cmd, Product)
        replaced: list[Variant] = []  # the variant as it was, for its old barcode's key

        async def work(uow: CatalogUnit) -> Product:
            product, variant = await self._locked(uow, who, cmd.product_id, cmd.variant_id)

            def change(current: Variant) -> Variant:
                return replace(
                    current,
                    display_name=current.display_name if cmd.display_name is None else cmd.display_name,
                    attributes=current.attributes if cmd.attributes is None else cmd.attributes,
                    list_price=current.list_price if cmd.list_price is None else cmd.list_price,
                    barcode=current.barcode if cmd.barcode is None else cmd.barcode,
                    updated_at=self.units.now(),
                )

            async def save(changed: Variant, expected_version: int) -> bool:
                """Refuses a barcode another variant carries, as checked or as the constraint finds it."""
                if cmd.barcode and await uow.variants.taken_barcodes(
                    who.tenant_id, [domain.gtin14(cmd.barcode)], besides=changed.id
                ):
                    raise domain.BarcodeTaken(cmd.barcode, "variant.barcode")
                try:
                    return await uow.variants.save(changed, expected_version)
                except ports.Duplicate as exc:
                    raise domain.BarcodeTaken(changed.barcode, "variant.barcode") from exc

            changed = await revise(
                variant,
                change,
                save,
                kind="variant",
                name=variant_name(cmd.product_id, cmd.variant_id),
                given_etag=cmd.etag,
            )
            assert product is not None  # revise refused a missing variant
            assert variant is not None
            await uow.products.refresh_search_text(domain.with_variant(product, changed))
            replaced.append(variant)
            return replace(product, variants=(changed,))

        product = await update(work)
        await self.cache.written(product, [*product.variants, *replaced])
        return product.variants[0]

    async def archive_variant(
        self, who: Principal, request_id: str, cmd: commands.ChangeVariantStatus
    ) -> Variant:
        def archive(variant: Variant, product: Product, now: datetime) -> Variant:
            return domain.archive_variant(variant, now)

        return await self._change_status(who, request_id, cmd, "ArchiveVariant", archive)

    async def unarchive_variant(
        self, who: Principal, request_id: str, cmd: commands.ChangeVariantStatus
    ) -> Variant:
        return await self._change_status(who, request_id, cmd, "UnarchiveVariant", domain.unarchive_variant)

    async def _change_status(
        self,
        who: Principal,
        request_id: str,
        cmd: commands.ChangeVariantStatus,
        operation: str,
        transition: Callable[[Variant, Product, datetime], Variant],
    ) -> Variant:
        change = self.units.once(idempotency.Key(who.tenant_id, request_id, operation), cmd, Product)

        async def work(uow: CatalogUnit) -> Product:
            product, variant = await self._locked(uow, who, cmd.product_id, cmd.variant_id)

            def move(current: Variant) -> Variant:
                assert product is not None  # the variant was found, so was its product
                return transition(current, product, self.units.now())

            changed = await change_status(
                variant,
                move,
                uow.variants.save,
                kind="variant",
                name=variant_name(cmd.product_id, cmd.variant_id),
                given_etag=cmd.etag,
            )
            assert product is not None
            return replace(product, variants=(changed,))

        product = await change(work)
        await self.cache.written(product)
        return product.variants[0]

    async def _locked(
        self, uow: CatalogUnit, who: Principal, product_id: str, variant_id: str
    ) -> tuple[Product | None, Variant | None]:
        """The product (its row locked first) and its variant, either None when missing."""
        product = await uow.products.get(who.tenant_id, product_id, lock=True)
        variant = next((v for v in product.variants if v.id == variant_id), None) if product else None
        return product, variant
