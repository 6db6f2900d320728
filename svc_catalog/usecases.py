"""svc_catalog's use cases: one method each, each owning its transaction.

Every mutating use case runs through `idempotency.once`, so a repeated
request_id returns the first result. Lock order, everywhere: the product row
first (`lock=True`), then its variants; so a variant change and an archive of
its product never interleave, and two writers never deadlock.

Reads of single items (a product, a variant, a SKU, a barcode) go through the
cache; every write deletes the keys it affected once its transaction has
committed (see `_keys`). Lists and searches always read the database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncConnection

from kit import errors, etag, idempotency, paging
from kit.auth import Principal
from kit.cache import Cache
from kit.db import Database
from kit.errors import FieldViolation, InvalidArgument, NotFound, Violations
from svc_catalog import commands, domain, store
from svc_catalog.domain import Product, ProductStatus, Variant, VariantStatus

T = TypeVar("T")
MAX_QUERY = 200


@dataclass(frozen=True)
class Found:
    """A variant and its product (without the product's variants)."""

    variant: Variant
    product: Product


@dataclass(frozen=True)
class ProductPage:
    products: list[Product]
    next_page_token: str


@dataclass(frozen=True)
class VariantPage:
    variants: list[Variant]
    next_page_token: str


@dataclass(frozen=True)
class Batch:
    variants: list[Variant]  # in the order their SKUs first appear in the request
    unknown_skus: list[str]


def product_name(product_id: str) -> str:
    return f"products/{product_id}"


def variant_name(product_id: str, variant_id: str) -> str:
    return f"products/{product_id}/variants/{variant_id}"


def product_etag(product: Product) -> str:
    return etag.etag(product_name(product.id), product.version)


def variant_etag(variant: Variant) -> str:
    return etag.etag(variant_name(variant.product_id, variant.id), variant.version)


def _codec(kind: type[T]) -> tuple[Callable[[T], bytes], Callable[[bytes], T]]:
    decoder = msgspec.json.Decoder(kind)
    return msgspec.json.encode, decoder.decode


PRODUCT_CODEC = _codec(Product)
VARIANT_CODEC = _codec(Variant)
FOUND_CODEC = _codec(Found)


class Catalog:
    def __init__(
        self, db: Database, cache: Cache, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self.db = db
        self.cache = cache
        self.now = clock

    # --- cache keys ---------------------------------------------------------------

    def _keys(self, product: Product, variants: Iterable[Variant] | None = None) -> set[str]:
        """What a change of `product` (or of some of its `variants`) affects: the
        product (it lists its variants), and per variant its own entry and the
        SKU and barcode lookups, which carry the product too."""
        tenant = product.tenant_id
        keys = {self.cache.key(tenant, "product", product.id)}
        for v in product.variants if variants is None else variants:
            keys |= {self.cache.key(tenant, "variant", v.id), self.cache.key(tenant, "sku", v.sku)}
            if v.barcode:
                keys.add(self.cache.key(tenant, "barcode", domain.gtin14(v.barcode)))
        return keys

    # --- products -----------------------------------------------------------------

    async def create_product(self, who: Principal, request_id: str, cmd: commands.CreateProduct) -> Product:
        violations = Violations()
        _check_product_fields(cmd.display_name, cmd.description, cmd.brand, cmd.category, violations)
        for i, new in enumerate(cmd.variants):
            _check_new_variant(new, f"product.variants[{i}]", violations)
        domain.check_distinct(
            [v.sku for v in cmd.variants], [v.barcode for v in cmd.variants], "product.variants", violations
        )
        violations.raise_if_any()
        idempotency.validate_request_id(request_id)

        async def work(conn: AsyncConnection) -> Product:
            paths = [f"product.variants[{i}]" for i in range(len(cmd.variants))]
            await _refuse_taken(conn, who.tenant_id, list(zip(paths, cmd.variants, strict=True)))
            now = self.now()
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
            created = [_new_variant(product, new, now) for new in cmd.variants]
            for variant in created:
                product = domain.with_variant(product, variant)
            await store.insert_product(conn, product)
            for path, variant in zip(paths, created, strict=True):
                await _insert_variant(conn, variant, path)
            return product

        key = idempotency.Key(who.tenant_id, request_id, "CreateProduct")
        product = await idempotency.once(self.db, store.idempotency_records, key, cmd, Product, work)
        await self.cache.invalidate(self._keys(product))
        return product

    async def get_product(self, who: Principal, product_id: str) -> Product:
        async def load() -> Product | None:
            async with self.db.snapshot() as conn:
                return await store.product_by_id(conn, who.tenant_id, product_id)

        key = self.cache.key(who.tenant_id, "product", product_id)
        product = await self.cache.get_or_load(key, load, *PRODUCT_CODEC)
        if product is None:
            raise NotFound("product", product_name(product_id))
        return product

    async def list_products(self, who: Principal, query: commands.ListProducts) -> ProductPage:
        size = paging.page_size(query.page_size)
        _check_query(query.query)
        words = domain.words(query.query)
        filters = _digest(query.status, words, query.brand.casefold(), query.category)
        cursor = _cursor(query.page_token, filters, {"k": str, "id": str})
        async with self.db.snapshot() as conn:
            found = await store.list_products(
                conn,
                who.tenant_id,
                after=(cursor["k"], cursor["id"]) if cursor else None,
                limit=size + 1,
                status=query.status,
                words=words,
                brand=query.brand,
                category=query.category,
            )
        more = len(found) > size
        found = found[:size]
        last = found[-1] if found else None
        token = (
            paging.encode({"k": domain.sort_key(last.display_name), "id": last.id, "f": filters})
            if more and last
            else ""
        )
        return ProductPage(found, token)

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

        async def work(conn: AsyncConnection) -> Product:
            product = await self._locked_product(conn, who, cmd.product_id, cmd.etag)
            changed = domain.revise_product(
                product,
                self.now(),
                display_name=cmd.display_name,
                description=cmd.description,
                brand=cmd.brand,
                category=cmd.category,
            )
            if not await store.save_product(conn, changed, expected_version=product.version):
                raise errors.EtagMismatch(product_name(product.id))
            return changed

        key = idempotency.Key(who.tenant_id, request_id, "UpdateProduct")
        product = await idempotency.once(self.db, store.idempotency_records, key, cmd, Product, work)
        await self.cache.invalidate(self._keys(product))
        return product

    async def archive_product(
        self, who: Principal, request_id: str, cmd: commands.ChangeProductStatus
    ) -> Product:
        return await self._change_product(who, request_id, cmd, "ArchiveProduct", domain.archive_product)

    async def unarchive_product(
        self, who: Principal, request_id: str, cmd: commands.ChangeProductStatus
    ) -> Product:
        return await self._change_product(who, request_id, cmd, "UnarchiveProduct", domain.unarchive_product)

    async def _change_product(
        self,
        who: Principal,
        request_id: str,
        cmd: commands.ChangeProductStatus,
        operation: str,
        transition: Callable[[Product, datetime], Product],
    ) -> Product:
        async def work(conn: AsyncConnection) -> Product:
            product = await self._locked_product(conn, who, cmd.product_id, cmd.etag)
            changed = transition(product, self.now())
            if changed is product:
                return product  # already in that state: nothing to do
            if not await store.save_product(conn, changed, expected_version=product.version):
                raise errors.EtagMismatch(product_name(product.id))
            for before, after in zip(product.variants, changed.variants, strict=True):
                if after is not before and not await store.save_variant(
                    conn, after, expected_version=before.version
                ):
                    raise errors.EtagMismatch(variant_name(after.product_id, after.id))
            return changed

        key = idempotency.Key(who.tenant_id, request_id, operation)
        product = await idempotency.once(self.db, store.idempotency_records, key, cmd, Product, work)
        await self.cache.invalidate(self._keys(product))
        return product

    async def _locked_product(
        self, conn: AsyncConnection, who: Principal, product_id: str, given_etag: str
    ) -> Product:
        product = await store.product_by_id(conn, who.tenant_id, product_id, lock=True)
        if product is None:
            raise NotFound("product", product_name(product_id))
        etag.check(product_name(product.id), product.version, given_etag)
        return product

    # --- variants -----------------------------------------------------------------

    async def create_variant(self, who: Principal, request_id: str, cmd: commands.CreateVariant) -> Variant:
        violations = Violations()
        _check_new_variant(cmd.variant, "variant", violations)
        violations.raise_if_any()
        idempotency.validate_request_id(request_id)

        async def work(conn: AsyncConnection) -> Product:
            product = await self._locked_product(conn, who, cmd.product_id, "")
            domain.must_be_active(product)
            await _refuse_taken(conn, who.tenant_id, [("variant", cmd.variant)])
            variant = _new_variant(product, cmd.variant, self.now())
            await _insert_variant(conn, variant, "variant")
            grown = domain.with_variant(product, variant)
            await store.set_search_text(conn, grown)
            return replace(grown, variants=(variant,))  # the product, with only the new variant

        key = idempotency.Key(who.tenant_id, request_id, "CreateVariant")
        product = await idempotency.once(self.db, store.idempotency_records, key, cmd, Product, work)
        await self.cache.invalidate(self._keys(product))
        return product.variants[0]

    async def get_variant(self, who: Principal, product_id: str, variant_id: str) -> Variant:
        async def load() -> Variant | None:
            async with self.db.snapshot() as conn:
                return await store.variant_by_id(conn, who.tenant_id, product_id, variant_id)

        key = self.cache.key(who.tenant_id, "variant", variant_id)
        variant = await self.cache.get_or_load(key, load, *VARIANT_CODEC)
        if variant is None or variant.product_id != product_id:
            raise NotFound("variant", variant_name(product_id, variant_id))
        return variant

    async def list_variants(self, who: Principal, query: commands.ListVariants) -> VariantPage:
        size = paging.page_size(query.page_size)
        _check_query(query.query)
        words = domain.words(query.query)
        filters = _digest(query.product_id, query.status, words)
        cursor = _cursor(query.page_token, filters, {"after": str})
        async with self.db.snapshot() as conn:
            if query.product_id is not None and not await store.product_exists(
                conn, who.tenant_id, query.product_id
            ):
                raise NotFound("product", product_name(query.product_id))
            found = await store.list_variants(
                conn,
                who.tenant_id,
                product_id=query.product_id,
                after=cursor["after"] if cursor else "",
                limit=size + 1,
                status=query.status,
                words=words,
            )
        more = len(found) > size
        found = found[:size]
        token = paging.encode({"after": domain.sku_key(found[-1].sku), "f": filters}) if more else ""
        return VariantPage(found, token)

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
        replaced: list[Variant] = []  # the variant as it was, for its old barcode's key

        async def work(conn: AsyncConnection) -> Product:
            product, variant = await self._locked_variant(conn, who, cmd.product_id, cmd.variant_id, cmd.etag)
            if cmd.barcode and await store.taken_barcodes(
                conn, who.tenant_id, [domain.gtin14(cmd.barcode)], besides=variant.id
            ):
                raise domain.BarcodeTaken(cmd.barcode, "variant.barcode")
            changed = replace(
                variant,
                display_name=variant.display_name if cmd.display_name is None else cmd.display_name,
                attributes=variant.attributes if cmd.attributes is None else cmd.attributes,
                list_price=variant.list_price if cmd.list_price is None else cmd.list_price,
                barcode=variant.barcode if cmd.barcode is None else cmd.barcode,
                updated_at=self.now(),
                version=variant.version + 1,
            )
            try:
                saved = await store.save_variant(conn, changed, expected_version=variant.version)
            except store.Duplicate as exc:
                raise domain.BarcodeTaken(changed.barcode, "variant.barcode") from exc
            if not saved:
                raise errors.EtagMismatch(variant_name(variant.product_id, variant.id))
            await store.set_search_text(conn, domain.with_variant(product, changed))
            replaced.append(variant)
            return replace(product, variants=(changed,))

        key = idempotency.Key(who.tenant_id, request_id, "UpdateVariant")
        product = await idempotency.once(self.db, store.idempotency_records, key, cmd, Product, work)
        await self.cache.invalidate(self._keys(product, [*product.variants, *replaced]))
        return product.variants[0]

    async def archive_variant(
        self, who: Principal, request_id: str, cmd: commands.ChangeVariantStatus
    ) -> Variant:
        def archive(variant: Variant, product: Product, now: datetime) -> Variant:
            return domain.archive_variant(variant, now)

        return await self._change_variant(who, request_id, cmd, "ArchiveVariant", archive)

    async def unarchive_variant(
        self, who: Principal, request_id: str, cmd: commands.ChangeVariantStatus
    ) -> Variant:
        return await self._change_variant(who, request_id, cmd, "UnarchiveVariant", domain.unarchive_variant)

    async def _change_variant(
        self,
        who: Principal,
        request_id: str,
        cmd: commands.ChangeVariantStatus,
        operation: str,
        transition: Callable[[Variant, Product, datetime], Variant],
    ) -> Variant:
        async def work(conn: AsyncConnection) -> Product:
            product, variant = await self._locked_variant(conn, who, cmd.product_id, cmd.variant_id, cmd.etag)
            changed = transition(variant, product, self.now())
            if changed is not variant and not await store.save_variant(
                conn, changed, expected_version=variant.version
            ):
                raise errors.EtagMismatch(variant_name(variant.product_id, variant.id))
            return replace(product, variants=(changed,))

        key = idempotency.Key(who.tenant_id, request_id, operation)
        product = await idempotency.once(self.db, store.idempotency_records, key, cmd, Product, work)
        await self.cache.invalidate(self._keys(product))
        return product.variants[0]

    async def _locked_variant(
        self, conn: AsyncConnection, who: Principal, product_id: str, variant_id: str, given_etag: str
    ) -> tuple[Product, Variant]:
        product = await store.product_by_id(conn, who.tenant_id, product_id, lock=True)
        variant = next((v for v in product.variants if v.id == variant_id), None) if product else None
        if product is None or variant is None:
            raise NotFound("variant", variant_name(product_id, variant_id))
        etag.check(variant_name(product_id, variant.id), variant.version, given_etag)
        return product, variant

    # --- lookups for scanners and other services ----------------------------------------

    async def lookup_barcode(self, who: Principal, barcode: str) -> Found:
        violations = Violations()
        domain.check_barcode(barcode, "barcode", violations, required=True)
        violations.raise_if_any()
        gtin14 = domain.gtin14(barcode)

        async def load() -> Found | None:
            async with self.db.snapshot() as conn:
                variant = await store.variant_by_barcode(conn, who.tenant_id, gtin14)
                return await _with_product(conn, who.tenant_id, variant)

        key = self.cache.key(who.tenant_id, "barcode", gtin14)
        found = await self.cache.get_or_load(key, load, *FOUND_CODEC)
        if found is None:
            raise NotFound("barcode", barcode)
        return found

    async def lookup_sku(self, who: Principal, sku: str) -> Found:
        if not sku:
            raise InvalidArgument([FieldViolation("sku", "required")])

        async def load() -> Found | None:
            async with self.db.snapshot() as conn:
                variant = await store.variant_by_sku(conn, who.tenant_id, sku)
                return await _with_product(conn, who.tenant_id, variant)

        # A string no variant can carry is not worth a query or a key.
        found = None
        if domain.SKU.fullmatch(sku):
            key = self.cache.key(who.tenant_id, "sku", sku)
            found = await self.cache.get_or_load(key, load, *FOUND_CODEC)
        if found is None:
            raise NotFound("variant", f"sku {sku}")
        return found

    async def batch_get_variants(self, who: Principal, skus: list[str]) -> Batch:
        wanted = list(dict.fromkeys(skus))  # duplicates collapsed, first appearance kept
        if not 1 <= len(wanted) <= domain.MAX_BATCH:
            raise InvalidArgument([FieldViolation("skus", f"1 to {domain.MAX_BATCH} distinct SKUs")])
        valid = [s for s in wanted if domain.SKU.fullmatch(s)]
        keys = {self.cache.key(who.tenant_id, "sku", s): s for s in valid}

        async def load(missing: list[str]) -> dict[str, Found]:
            async with self.db.snapshot() as conn:
                variants = await store.variants_by_skus(conn, who.tenant_id, [keys[k] for k in missing])
                owners = await store.products_by_ids(conn, who.tenant_id, {v.product_id for v in variants})
            by_sku = {v.sku: Found(v, owners[v.product_id]) for v in variants}
            return {k: by_sku[keys[k]] for k in missing if keys[k] in by_sku}

        found = await self.cache.get_many_or_load(list(keys), load, *FOUND_CODEC)
        by_sku = {f.variant.sku: f.variant for f in found.values()}
        return Batch([by_sku[s] for s in wanted if s in by_sku], [s for s in wanted if s not in by_sku])


# --- helpers ---------------------------------------------------------------------


def _check_product_fields(
    display_name: str, description: str, brand: str, category: str, violations: Violations
) -> None:
    domain.check_text(display_name, "product.display_name", violations, domain.MAX_NAME, required=True)
    domain.check_text(description, "product.description", violations, domain.MAX_DESCRIPTION)
    domain.check_text(brand, "product.brand", violations, domain.MAX_BRAND)
    domain.check_category(category, "product.category", violations)


def _check_new_variant(new: commands.NewVariant, path: str, violations: Violations) -> None:
    domain.check_sku(new.sku, f"{path}.sku", violations)
    domain.check_text(new.display_name, f"{path}.display_name", violations, domain.MAX_NAME)
    domain.check_attributes(new.attributes, f"{path}.attributes", violations)
    domain.check_unit(new.unit_of_measure, f"{path}.unit_of_measure", violations)
    domain.check_money(new.list_price, f"{path}.list_price", violations)
    domain.check_barcode(new.barcode, f"{path}.barcode", violations)


def _check_query(query: str) -> None:
    if len(query) > MAX_QUERY:
        raise InvalidArgument([FieldViolation("query", f"at most {MAX_QUERY} characters")])


def _new_variant(product: Product, new: commands.NewVariant, now: datetime) -> Variant:
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


async def _refuse_taken(
    conn: AsyncConnection, tenant_id: str, entries: list[tuple[str, commands.NewVariant]]
) -> None:
    """ALREADY_EXISTS naming the first variant whose SKU or barcode the tenant already uses."""
    skus = await store.taken_skus(conn, tenant_id, [domain.sku_key(new.sku) for _, new in entries])
    barcodes = await store.taken_barcodes(
        conn, tenant_id, [domain.gtin14(new.barcode) for _, new in entries if new.barcode]
    )
    for path, new in entries:
        if domain.sku_key(new.sku) in skus:
            raise domain.SkuTaken(new.sku, f"{path}.sku")
        if new.barcode and domain.gtin14(new.barcode) in barcodes:
            raise domain.BarcodeTaken(new.barcode, f"{path}.barcode")


async def _insert_variant(conn: AsyncConnection, variant: Variant, path: str) -> None:
    """Insert; a concurrent writer that took the SKU or barcode since we
    checked makes the unique constraint refuse it, reported the same way."""
    try:
        await store.insert_variant(conn, variant)
    except store.Duplicate as exc:
        if exc.what == "sku":
            raise domain.SkuTaken(variant.sku, f"{path}.sku") from exc
        raise domain.BarcodeTaken(variant.barcode, f"{path}.barcode") from exc


async def _with_product(conn: AsyncConnection, tenant_id: str, variant: Variant | None) -> Found | None:
    if variant is None:
        return None
    product = await store.product_by_id(conn, tenant_id, variant.product_id, variants=False)
    return Found(variant, product) if product else None


def _digest(*filters: Any) -> str:
    """Ties a page token to the filters it was made for."""
    return hashlib.sha256(json.dumps(filters, default=str).encode()).hexdigest()[:16]


def _cursor(token: str, filters: str, fields: Mapping[str, type]) -> dict[str, Any]:
    cursor = paging.decode(token)
    if cursor and (
        cursor.get("f") != filters or not all(isinstance(cursor.get(k), t) for k, t in fields.items())
    ):
        raise InvalidArgument(
            [FieldViolation("page_token", "not a token from a previous page of this same request")]
        )
    return cursor
