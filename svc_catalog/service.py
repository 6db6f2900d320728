"""svc_catalog's gRPC servicer: proto in, command to a use case, proto out.

Errors are raised, never set on the context: the call pipeline maps them.
"""

from __future__ import annotations

from kit import auth, protos
from kit.auth import Role
from kit.rpc import Context
from stockmesh.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from svc_catalog import commands, convert
from svc_catalog.usecases.lookups import Lookups
from svc_catalog.usecases.products import Products
from svc_catalog.usecases.variants import Variants

CATALOG = "stockmesh.catalog.v1.CatalogService"

EDITORS = auth.roles(Role.MANAGER)  # and admins, who may do everything
READERS = auth.roles(Role.MANAGER, Role.CLERK, Role.BUYER, Role.VIEWER)

RULES: dict[str, auth.Rule] = {
    f"/{CATALOG}/CreateProduct": EDITORS,
    f"/{CATALOG}/GetProduct": READERS,
    f"/{CATALOG}/ListProducts": READERS,
    f"/{CATALOG}/UpdateProduct": EDITORS,
    f"/{CATALOG}/ArchiveProduct": EDITORS,
    f"/{CATALOG}/UnarchiveProduct": EDITORS,
    f"/{CATALOG}/CreateVariant": EDITORS,
    f"/{CATALOG}/GetVariant": READERS,
    f"/{CATALOG}/ListVariants": READERS,
    f"/{CATALOG}/UpdateVariant": EDITORS,
    f"/{CATALOG}/ArchiveVariant": EDITORS,
    f"/{CATALOG}/UnarchiveVariant": EDITORS,
    f"/{CATALOG}/LookupBarcode": READERS,
    f"/{CATALOG}/LookupSku": READERS,
    # Other services check SKUs for users, and in their system work (retries).
    f"/{CATALOG}/BatchGetVariants": auth.Rule(services=frozenset({"svc-stock", "svc-procure", "svc-order"})),
}

PRODUCT_FIELDS = {"display_name", "description", "brand", "category"}
VARIANT_FIELDS = {"display_name", "attributes", "list_price", "barcode"}


class CatalogServicer(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, products: Products, variants: Variants, lookups: Lookups) -> None:
        self.products = products
        self.variants = variants
        self.lookups = lookups

    async def CreateProduct(
        self, request: catalog_pb2.CreateProductRequest, context: Context
    ) -> catalog_pb2.CreateProductResponse:
        given = request.product
        cmd = commands.CreateProduct(
            display_name=given.display_name,
            description=given.description,
            brand=given.brand,
            category=given.category,
            variants=tuple(convert.new_variant(v) for v in given.variants),
        )
        product = await self.products.create_product(auth.principal(), request.request_id, cmd)
        return catalog_pb2.CreateProductResponse(product=convert.product(product))

    async def GetProduct(
        self, request: catalog_pb2.GetProductRequest, context: Context
    ) -> catalog_pb2.GetProductResponse:
        product = await self.products.get_product(auth.principal(), convert.product_id(request.name))
        return catalog_pb2.GetProductResponse(product=convert.product(product))

    async def ListProducts(
        self, request: catalog_pb2.ListProductsRequest, context: Context
    ) -> catalog_pb2.ListProductsResponse:
        query = commands.ListProducts(
            page_size=request.page_size,
            page_token=request.page_token,
            status=convert.product_status(request.status),
            query=request.query,
            brand=request.brand,
            category=request.category,
        )
        page = await self.products.list_products(auth.principal(), query)
        return catalog_pb2.ListProductsResponse(
            products=[convert.product(p) for p in page.items], next_page_token=page.next_page_token
        )

    async def UpdateProduct(
        self, request: catalog_pb2.UpdateProductRequest, context: Context
    ) -> catalog_pb2.UpdateProductResponse:
        paths = protos.update_paths(list(request.update_mask.paths), PRODUCT_FIELDS)
        given = request.product
        cmd = commands.UpdateProduct(
            product_id=convert.product_id(given.name, "product.name"),
            etag=given.etag,
            display_name=given.display_name if "display_name" in paths else None,
            description=given.description if "description" in paths else None,
            brand=given.brand if "brand" in paths else None,
            category=given.category if "category" in paths else None,
        )
        product = await self.products.update_product(auth.principal(), request.request_id, cmd)
        return catalog_pb2.UpdateProductResponse(product=convert.product(product))

    async def ArchiveProduct(
        self, request: catalog_pb2.ArchiveProductRequest, context: Context
    ) -> catalog_pb2.ArchiveProductResponse:
        cmd = commands.ChangeProductStatus(convert.product_id(request.name), request.etag)
        product = await self.products.archive_product(auth.principal(), request.request_id, cmd)
        return catalog_pb2.ArchiveProductResponse(product=convert.product(product))

    async def UnarchiveProduct(
        self, request: catalog_pb2.UnarchiveProductRequest, context: Context
    ) -> catalog_pb2.UnarchiveProductResponse:
        cmd = commands.ChangeProductStatus(convert.product_id(request.name), request.etag)
        product = await self.products.unarchive_product(auth.principal(), request.request_id, cmd)
        return catalog_pb2.UnarchiveProductResponse(product=convert.product(product))

    async def CreateVariant(
        self, request: catalog_pb2.CreateVariantRequest, context: Context
    ) -> catalog_pb2.CreateVariantResponse:
        cmd = commands.CreateVariant(
            convert.product_id(request.parent, "parent"), convert.new_variant(request.variant)
        )
        variant = await self.variants.create_variant(auth.principal(), request.request_id, cmd)
        return catalog_pb2.CreateVariantResponse(variant=convert.variant(variant))

    async def GetVariant(
        self, request: catalog_pb2.GetVariantRequest, context: Context
    ) -> catalog_pb2.GetVariantResponse:
        variant = await self.variants.get_variant(auth.principal(), *convert.variant_ids(request.name))
        return catalog_pb2.GetVariantResponse(variant=convert.variant(variant))

    async def ListVariants(
        self, request: catalog_pb2.ListVariantsRequest, context: Context
    ) -> catalog_pb2.ListVariantsResponse:
        query = commands.ListVariants(
            product_id=convert.variants_parent(request.parent),
            page_size=request.page_size,
            page_token=request.page_token,
            status=convert.variant_status(request.status),
            query=request.query,
        )
        page = await self.variants.list_variants(auth.principal(), query)
        return catalog_pb2.ListVariantsResponse(
            variants=[convert.variant(v) for v in page.items], next_page_token=page.next_page_token
        )

    async def UpdateVariant(
        self, request: catalog_pb2.UpdateVariantRequest, context: Context
    ) -> catalog_pb2.UpdateVariantResponse:
        paths = protos.update_paths(list(request.update_mask.paths), VARIANT_FIELDS)
        given = request.variant
        product_id, variant_id = convert.variant_ids(given.name, "variant.name")
        cmd = commands.UpdateVariant(
            product_id=product_id,
            variant_id=variant_id,
            etag=given.etag,
            display_name=given.display_name if "display_name" in paths else None,
            attributes=dict(given.attributes) if "attributes" in paths else None,
            list_price=(
                convert.money(given.list_price, given.HasField("list_price"))
                if "list_price" in paths
                else None
            ),
            barcode=given.barcode if "barcode" in paths else None,
        )
        variant = await self.variants.update_variant(auth.principal(), request.request_id, cmd)
        return catalog_pb2.UpdateVariantResponse(variant=convert.variant(variant))

    async def ArchiveVariant(
        self, request: catalog_pb2.ArchiveVariantRequest, context: Context
    ) -> catalog_pb2.ArchiveVariantResponse:
        cmd = commands.ChangeVariantStatus(*convert.variant_ids(request.name), request.etag)
        variant = await self.variants.archive_variant(auth.principal(), request.request_id, cmd)
        return catalog_pb2.ArchiveVariantResponse(variant=convert.variant(variant))

    async def UnarchiveVariant(
        self, request: catalog_pb2.UnarchiveVariantRequest, context: Context
    ) -> catalog_pb2.UnarchiveVariantResponse:
        cmd = commands.ChangeVariantStatus(*convert.variant_ids(request.name), request.etag)
        variant = await self.variants.unarchive_variant(auth.principal(), request.request_id, cmd)
        return catalog_pb2.UnarchiveVariantResponse(variant=convert.variant(variant))

    async def LookupBarcode(
        self, request: catalog_pb2.LookupBarcodeRequest, context: Context
    ) -> catalog_pb2.LookupBarcodeResponse:
        found = await self.lookups.lookup_barcode(auth.principal(), request.barcode)
        return catalog_pb2.LookupBarcodeResponse(
            variant=convert.variant(found.variant), product=convert.product(found.product)
        )

    async def LookupSku(
        self, request: catalog_pb2.LookupSkuRequest, context: Context
    ) -> catalog_pb2.LookupSkuResponse:
        found = await self.lookups.lookup_sku(auth.principal(), request.sku)
        return catalog_pb2.LookupSkuResponse(
            variant=convert.variant(found.variant), product=convert.product(found.product)
        )

    async def BatchGetVariants(
        self, request: catalog_pb2.BatchGetVariantsRequest, context: Context
    ) -> catalog_pb2.BatchGetVariantsResponse:
        batch = await self.lookups.batch_get_variants(auth.principal(), list(request.skus))
        return catalog_pb2.BatchGetVariantsResponse(
            variants=[convert.variant(v) for v in batch.variants], unknown_skus=batch.unknown_skus
        )
