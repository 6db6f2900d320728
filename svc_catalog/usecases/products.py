"""Products: create (with variants), read, list, update, archive, unarchive."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from kit import errors, idempotency, paging
from kit.auth import Principal
from kit.errors import NotFound, Violations
from kit.paging import Page
from kit.uow import Units, revise
from svc_catalog import commands, domain
from svc_catalog.domain import Product, ProductStatus
from svc_catalog.ports import CatalogUnit
from svc_catalog.usecases import listing
from svc_catalog.usecases.cache import PRODUCT, CatalogCache
from svc_catalog.usecases.names import product_name, variant_name
from svc_catalog.usecases.new_variants import add_variant, check_new_variant, new_variant, refuse_taken
from svc_catalog.usecases.status import change_status


class Products:
    def __init__(self, units: Units[CatalogUnit], cache: CatalogCache) -> None:
        self.units = units
        self.cache = cache

    async def create_product(self, who: Principal, request_id: str, cmd: commands.CreateProduct) -> Product:
        violations = Violations()
        domain.check_text(
            cmd.display_name, "product.display_name", violations, domain.MAX_NAME, required=True
        )
        domain.check_text(cmd.description, "product.description", violations, domain.MAX_DESCRIPTION)
        domain.check_text(cmd.brand, "product.brand", violations, domain.MAX_BRAND)
        domain.check_category(cmd.category, "product.category", violations)
        for i, new in enumerate(cmd.variants):
            check_new_variant(new, f"product.variants[{i}]", violations)
        domain.check_distinct(
            [v.sku for v in cmd.variants], [v.barcode for v in cmd.variants], "product.variants", violations
        )
        violations.raise_if_any()
        key = idempotency.Key(who.tenant_id, request_id, "CreateProduct")
        create = self.units.once(key, cmd, Product)

        async def work(uow: CatalogUnit) -> Product:
            paths = [f"product.variants[{i}]" for i in range(len(cmd.variants))]
            await refuse_taken(uow, who.tenant_id, list(zip(paths, cmd.variants, strict=True)))
            now = self.units.now()
            product = Product(
                id=str(uuid.uuid4()),
                tenant_id=who.tenant_id,
                display_name=cmd.display_name,
                description=cmd.description,
                brand=cmd.brand,
                category=cmd.category,
                status=ProductStatus.ACTIVE,
                created_at=now,
                updated_at=now,
                archived_at=None,
                version=1,
            )
            created = [new_variant(product, new, now) for new in cmd.variants]
            for variant in created:
                product = domain.with_variant(product, variant)
            await uow.products.add(product)
            for path, variant in zip(paths, created, strict=True):
                await add_variant(uow, variant, path)
            return product

        product = await create(work)
        await self.cache.written(product)
        return product

    async def get_product(self, who: Principal, product_id: str) -> Product:
        async def load() -> Product | None:
            async with self.units.read() as uow:
                return await uow.products.get(who.tenant_id, product_id)

        key = self.cache.product(who.tenant_id, product_id)
        product = await self.cache.cache.get_or_load(key, load, PRODUCT.encode, PRODUCT.decode)
        if product is None:
            raise NotFound("product", product_name(product_id))
        return product

    async def list_products(self, who: Principal, query: commands.ListProducts) -> Page[Product]:
        size = paging.page_size(query.page_size)
        listing.check_query(query.query)
        words = domain.words(query.query)
        filters = paging.filters_digest(query.status, words, query.brand.casefold(), query.category)
        cursor = paging.cursor_for(query.page_token, filters, {"k": str, "id": str})
        async with self.units.read() as uow:
            found = await uow.products.list(
                who.tenant_id,
                after=(cursor["k"], cursor["id"]) if cursor else None,
                limit=size + 1,
                status=query.status,
                words=words,
                brand=query.brand,
                category=query.category,
            )
        return paging.page_of(
            found, size, lambda last: {"k": domain.sort_key(last.display_name), "id": last.id, "f": filters}
        )

    async def update_product(self, who: Principal, request_id: str, cmd: commands.UpdateProduct) -> Product:
        violations = Violations()
        if cmd.display_name is not None:
            domain.check_text(
                cmd.display_name, "product.display_name", violations, domain.MAX_NAME, required=True
            )
        if cmd.description is not None:
            domain.check_text(cmd.description, "product.description", violations, domain.MAX_DESCRIPTION)
        if cmd.brand is not None:
            domain.check_text(cmd.brand, "product.brand", violations, domain.MAX_BRAND)
        if cmd.category is not None:
            domain.check_category(cmd.category, "product.category", violations)
        violations.raise_if_any()
        update = self.units.once(idempotency.Key(who.tenant_id, request_id, "UpdateProduct"), cmd, Product)

        async def work(uow: CatalogUnit) -> Product:
            def change(current: Product) -> Product:
                return domain.revise_product(
                    current,
                    self.units.now(),
                    display_name=cmd.display_name,
                    description=cmd.description,
                    brand=cmd.brand,
                    category=cmd.category,
                )

            return await revise(
                await uow.products.get(who.tenant_id, cmd.product_id, lock=True),
                change,
                uow.products.save,
                kind="product",
                name=product_name(cmd.product_id),
                given_etag=cmd.etag,
            )

        product = await update(work)
        await self.cache.written(product)
        return product

    async def archive_product(
        self, who: Principal, request_id: str, cmd: commands.ChangeProductStatus
    ) -> Product:
        return await self._change_status(who, request_id, cmd, "ArchiveProduct", domain.archive_product)

    async def unarchive_product(
        self, who: Principal, request_id: str, cmd: commands.ChangeProductStatus
    ) -> Product:
        return await self._change_status(who, request_id, cmd, "UnarchiveProduct", domain.unarchive_product)

    async def _change_status(
        self,
        who: Principal,
        request_id: str,
        cmd: commands.ChangeProductStatus,
        operation: str,
        transition: Callable[[Product, datetime], Product],
    ) -> Product:
        change = self.units.once(idempotency.Key(who.tenant_id, request_id, operation), cmd, Product)

        async def work(uow: CatalogUnit) -> Product:
            current = await uow.products.get(who.tenant_id, cmd.product_id, lock=True)

            async def save(changed: Product, expected_version: int) -> bool:
                """The product, then each variant the transition changed (archive takes them along)."""
                if current is None or not await uow.products.save(changed, expected_version):
                    return False
                for before, after in zip(current.variants, changed.variants, strict=True):
                    if after is not before and not await uow.variants.save(after, before.version):
                        raise errors.EtagMismatch(variant_name(after.product_id, after.id))
                return True

            return await change_status(
                current,
                lambda product: transition(product, self.units.now()),
                save,
                kind="product",
                name=product_name(cmd.product_id),
                given_etag=cmd.etag,
            )

        product = await change(work)
        await self.cache.written(product)
        return product
