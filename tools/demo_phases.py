"""The demo's master data phases: users, warehouses, the catalogue, suppliers
and their items, reorder policies.

Each phase first reads what exists and creates only what is missing, so a
second run, a day or a year later, adds nothing. Every create also carries a
request id derived from what it creates: if a run is cut off after a create
landed but before its answer arrived, the rerun's create is answered from the
service's record (within its 24 hours) instead of making a second one.
"""

from __future__ import annotations

from tools.demo_data import PRODUCTS, ProductSpec, VariantSpec
from tools.demo_plan import ADMIN, ITEMS, SUPPLIERS, USERS, WAREHOUSES, ItemSpec, UserSpec
from tools.demo_run import Run, create, created_summary, log_in
from tools.demo_story import POLICIES
from tools.rest import JSON, ApiError, bounded, days, money


async def users(run: Run) -> str:
    """One user per role; then the manager, clerk and buyer log in to do their parts."""
    found = await run.api.list_all("list users", "/v1/users", "users", [("showDisabled", "true")])
    emails = {str(u.get("email", "")).lower() for u in found}

    async def ensure(spec: UserSpec) -> bool:
        email = spec.email(run.tenant)
        if email in emails:
            return False
        body = {
            "email": email,
            "displayName": spec.display_name,
            "roles": [spec.role],
            "password": spec.password,
        }
        return await create(run.api, f"create user {email}", "/v1/users", body, run.key("user", email))

    outcome = created_summary([await ensure(spec) for spec in USERS], "users")
    run.crew = {ADMIN.role: run.api}
    for spec in USERS:
        if spec.role in ("ROLE_MANAGER", "ROLE_CLERK", "ROLE_BUYER"):
            api = run.api.sibling()
            try:
                await log_in(api, run.tenant, spec)
            except ApiError as exc:
                # Someone changed that user's password: the admin does its part.
                if exc.status != 401:
                    raise
                continue
            run.crew[spec.role] = api
    return f"{outcome}; {len(run.crew)} at work"


async def warehouses(run: Run) -> str:
    """The central warehouse and two stores, found again by their codes."""

    async def known() -> dict[str, str]:
        found = await run.api.list_all("list warehouses", "/v1/warehouses", "warehouses")
        return {str(w["code"]).upper(): str(w["name"]) for w in found}

    by_code = await known()
    done = []
    for spec in WAREHOUSES:
        made = spec.code not in by_code and await create(
            run.one("ROLE_MANAGER"),
            f"create warehouse {spec.code}",
            "/v1/warehouses",
            spec.body(),
            run.key("warehouse", spec.code),
        )
        done.append(made)
    by_code = await known() if any(done) else by_code
    run.warehouses = {spec.key: by_code[spec.code] for spec in WAREHOUSES}
    return created_summary(done, "warehouses")


def _variant_body(spec: VariantSpec) -> JSON:
    return {
        "sku": spec.sku,
        "displayName": spec.display_name,
        "attributes": spec.attributes,
        "unitOfMeasure": spec.unit,
        "listPrice": money(spec.price),
        "barcode": spec.barcode,
    }


async def catalogue(run: Run) -> str:
    """Every product with its variants; a product found with some variants gets the missing ones."""
    products = await run.api.list_all("list products", "/v1/products", "products")
    # SKUs are unique ignoring case; remember which product holds each.
    holder = {str(v["sku"]).upper(): str(p["name"]) for p in products for v in p.get("variants", [])}

    team = run.team("ROLE_MANAGER", "ROLE_ADMIN")

    async def ensure(number: int, spec: ProductSpec) -> tuple[int, int]:
        api = team[number % len(team)]
        missing = [v for v in spec.variants if v.sku.upper() not in holder]
        if len(missing) == len(spec.variants):
            body = {
                "displayName": spec.display_name,
                "description": spec.description,
                "brand": spec.brand,
                "category": spec.category,
                "variants": [_variant_body(v) for v in spec.variants],
            }
            step = f"create product {spec.code}"
            made = await create(api, step, "/v1/products", body, run.key("product", spec.code))
            return (1, len(spec.variants)) if made else (0, 0)
        parent = next(holder[v.sku.upper()] for v in spec.variants if v.sku.upper() in holder)
        added = 0
        for variant in missing:
            step, path = f"create variant {variant.sku}", f"/v1/{parent}/variants"
            added += await create(api, step, path, _variant_body(variant), run.key("variant", variant.sku))
        return 0, added

    results = await bounded(ensure(number, spec) for number, spec in enumerate(PRODUCTS))
    made_products = sum(p for p, _ in results)
    made_variants = sum(v for _, v in results)
    total = sum(len(p.variants) for p in PRODUCTS)
    return (
        f"{made_products} products and {made_variants} variants created, "
        f"{len(PRODUCTS) - made_products} products / {total - made_variants} variants already there"
    )


def _item_body(spec: ItemSpec) -> JSON:
    body: JSON = {
        "sku": spec.sku,
        "supplierSku": spec.supplier_sku,
        "unitCost": money(spec.unit_cost),
        "minimumOrderQuantity": str(spec.minimum_order),
        "packSize": str(spec.pack_size),
        "preferred": spec.preferred,
    }
    if spec.lead_days is not None:
        body["leadTime"] = days(spec.lead_days)
    return body


async def suppliers(run: Run) -> str:
    """The suppliers, found again by name, and their items, by supplier and SKU."""

    async def known() -> dict[str, str]:
        found = await run.api.list_all("list suppliers", "/v1/suppliers", "suppliers")
        return {str(s["displayName"]): str(s["name"]) for s in found}

    # Supplier names are not unique in the contract, so the name is only our
    # own marker: look before creating.
    by_name = await known()
    done = []
    for spec in SUPPLIERS.values():
        step = f"create supplier {spec.display_name}"
        made = spec.display_name not in by_name and await create(
            run.one("ROLE_BUYER"), step, "/v1/suppliers", spec.body(), run.key("supplier", spec.key)
        )
        done.append(made)
    by_name = await known() if any(done) else by_name
    run.suppliers = {key: by_name[spec.display_name] for key, spec in SUPPLIERS.items()}
    found = await run.api.list_all("list supplier items", "/v1/suppliers/-/items", "supplierItems")
    have = {(str(i["name"]).rsplit("/items/", 1)[0], str(i["sku"])) for i in found}

    team = run.team("ROLE_BUYER", "ROLE_MANAGER", "ROLE_ADMIN")

    async def ensure(number: int, spec: ItemSpec) -> bool:
        parent = run.suppliers[spec.supplier]
        if (parent, spec.sku) in have:
            return False
        step = f"create supplier item {spec.supplier}/{spec.sku}"
        key = run.key("supplier-item", spec.supplier, spec.sku)
        api = team[number % len(team)]
        return await create(api, step, f"/v1/{parent}/items", _item_body(spec), key)

    items = await bounded(ensure(number, spec) for number, spec in enumerate(ITEMS.values()))
    return f"{created_summary(done, 'suppliers')}; {created_summary(items, 'supplier items')}"


async def policies(run: Run) -> str:
    """Reorder policies, set only where a level's differ from the plan's."""
    levels = await run.api.list_all("list stock levels", "/v1/warehouses/-/stockLevels", "stockLevels")
    current = {
        (str(x["warehouse"]), str(x["sku"])): (
            int(x.get("reorderPoint", 0)),
            int(x.get("reorderQuantity", 0)),
        )
        for x in levels
    }

    team = run.team("ROLE_BUYER", "ROLE_MANAGER", "ROLE_ADMIN")

    async def ensure(number: int, warehouse: str, sku: str, point: int, quantity: int) -> bool:
        if current.get((warehouse, sku)) == (point, quantity):
            return False
        body = {"reorderPoint": str(point), "reorderQuantity": str(quantity)}
        key = run.key("policy", warehouse, sku, point, quantity)
        path = f"/v1/{warehouse}/stockLevels/{sku}:setReorderPolicy"
        await team[number % len(team)].post(f"set reorder policy {sku} in {warehouse}", path, body, key=key)
        return True

    wanted = [
        (run.warehouses[plan.warehouse], sku, point, quantity)
        for plan in POLICIES
        for sku, (point, quantity) in plan.levels.items()
    ]
    done = await bounded(ensure(number, *args) for number, args in enumerate(wanted))
    return f"{sum(done)} set, {len(done) - sum(done)} already as planned"
