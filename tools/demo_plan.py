"""Who works at the demo retailer, where its stock is, whom it buys from and on
what terms. Like the catalogue, a pure function of this file."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from tools.demo_data import PRODUCT_OF, VARIANTS, VariantSpec

TENANT_DISPLAY_NAME = "Demo Trading Co."


@dataclass(frozen=True)
class UserSpec:
    role: str  # stockmesh.user.v1.Role name
    local_part: str
    display_name: str
    # Demo passwords, printed at the end of every run: long enough to pass the
    # strength rules, and free of the email's local part, which they forbid.
    password: str

    def email(self, tenant: str) -> str:
        return f"{self.local_part}@{tenant}.test"


USERS = (
    UserSpec("ROLE_ADMIN", "admin", "Avery Admin", "Harbour-Lantern-41"),
    UserSpec("ROLE_MANAGER", "manager", "Morgan Manager", "Copper-Meadow-52"),
    UserSpec("ROLE_CLERK", "clerk", "Casey Clerk", "Granite-Orchard-63"),
    UserSpec("ROLE_BUYER", "buyer", "Blake Buyer", "Willow-Compass-74"),
    UserSpec("ROLE_VIEWER", "viewer", "Vic Viewer", "Saffron-Bridge-85"),
)
ADMIN = USERS[0]


@dataclass(frozen=True)
class WarehouseSpec:
    key: str
    code: str
    display_name: str
    street: tuple[str, ...]
    locality: str
    postal_code: str

    def body(self) -> dict[str, object]:
        address = {
            "addressLines": list(self.street),
            "locality": self.locality,
            "postalCode": self.postal_code,
            "regionCode": "DE",
        }
        return {"code": self.code, "displayName": self.display_name, "address": address}


WAREHOUSES = (
    WarehouseSpec(
        "dc", "DC-BER", "Central warehouse Berlin", ("Industriestraße 12", "Halle 3"), "Berlin", "12099"
    ),
    WarehouseSpec("mitte", "ST-BER-MITTE", "Store Berlin-Mitte", ("Torstraße 88",), "Berlin", "10119"),
    WarehouseSpec(
        "altona", "ST-HH-ALTONA", "Store Hamburg-Altona", ("Ottenser Hauptstraße 21",), "Hamburg", "22765"
    ),
)


@dataclass(frozen=True)
class SupplierSpec:
    key: str
    display_name: str
    contact_name: str
    contact_email: str
    contact_phone: str
    lead_days: int
    sku_prefix: str  # the supplier's own article numbers start with it
    cost_ratio: Decimal  # unit cost as a share of our list price
    pack_size: int  # for items counted in EA
    minimum_order: int  # for items counted in EA
    note: str

    def body(self) -> dict[str, object]:
        return {
            "displayName": self.display_name,
            "contactName": self.contact_name,
            "contactEmail": self.contact_email,
            "contactPhone": self.contact_phone,
            "currencyCode": "EUR",
            "defaultLeadTime": f"{self.lead_days * 86400}s",
            "note": self.note,
        }


_S = SupplierSpec
SUPPLIERS = {
    s.key: s
    for s in (
        _S("bergmann", "Bergmann Werkzeuge GmbH", "Jana Keller", "orders@bergmann-werkzeuge.example",
           "+492114567890", 7, "BW", Decimal("0.55"), 1, 2, "Hand tools; free delivery from EUR 250."),
        _S("ferro", "Ferro Befestigungstechnik KG", "Tomasz Nowak", "orders@ferro-befestigung.example",
           "+497119876543", 5, "FB", Decimal("0.45"), 10, 20, "Fasteners, paint and safety gear."),
        _S("lumen", "Lumen Elektro AG", "Sofia Brandt", "orders@lumen-elektro.example",
           "+49891234567", 10, "LE", Decimal("0.60"), 1, 1, "Electrical and power tools."),
        _S("alpenhof", "Alpenhof Feinkost GmbH", "Lukas Gruber", "orders@alpenhof-feinkost.example",
           "+49831765432", 3, "AF", Decimal("0.62"), 6, 12, "Cases of six, delivered twice a week."),
        _S("nordkaffee", "Nordkaffee Rösterei", "Ida Hansen", "orders@nordkaffee.example",
           "+494023456789", 4, "NK", Decimal("0.50"), 6, 12, "Roasted to order on Mondays."),
        _S("northline", "Northline Textil A/S", "Mads Larsen", "orders@northline-textil.example",
           "+4533112233", 21, "NL", Decimal("0.40"), 1, 4, "Apparel; seasonal collections."),
        _S("mercado", "Mercado Großhandel", "Elena Rossi", "orders@mercado-grosshandel.example",
           "+493098765432", 2, "MG", Decimal("0.57"), 12, 24, "Cash-and-carry wholesaler, second source."),
    )
}  # fmt: skip

# SKUs the wholesaler also sells: a second, cheaper but not preferred source.
SECOND_SOURCE = tuple(
    sku for sku in VARIANTS if sku.split("-")[1] in {"PASTA", "RICE", "PULSES", "PASSATA", "FLOUR", "OATS"}
)
# Bulk units come in sacks, cans and coils: (pack size, minimum order).
BULK_TERMS = {"GRM": (5000, 25000), "MLT": (5000, 10000), "MMT": (10000, 20000)}
# Items whose own lead time overrides the supplier's default.
LEAD_OVERRIDES = {"DRILL": 14, "PAINT": 8, "RAINJKT": 28}


@dataclass(frozen=True)
class ItemSpec:
    supplier: str
    sku: str
    supplier_sku: str
    unit_cost: Decimal
    pack_size: int
    minimum_order: int
    lead_days: int | None
    preferred: bool

    def round_up(self, quantity: int) -> int:
        """The least valid order quantity of at least `quantity`."""
        quantity = max(quantity, self.minimum_order, 1)
        return -(-quantity // self.pack_size) * self.pack_size


def _item(supplier: SupplierSpec, variant: VariantSpec, number: int, *, preferred: bool) -> ItemSpec:
    pack, moq = BULK_TERMS.get(variant.unit, (supplier.pack_size, supplier.minimum_order))
    # Per-gram and per-millimetre costs need more than cents.
    step = Decimal("0.000001") if variant.price < 1 and variant.unit != "EA" else Decimal("0.01")
    cost = (variant.price * supplier.cost_ratio).quantize(step, rounding=ROUND_HALF_UP)
    code = PRODUCT_OF[variant.sku].code
    return ItemSpec(
        supplier.key,
        variant.sku,
        f"{supplier.sku_prefix}-{10000 + number}",
        cost,
        pack,
        moq,
        LEAD_OVERRIDES.get(code) if preferred else None,
        preferred,
    )


def _items() -> dict[tuple[str, str], ItemSpec]:
    found = {}
    for number, variant in enumerate(VARIANTS.values(), start=1):
        main = SUPPLIERS[PRODUCT_OF[variant.sku].supplier]
        found[main.key, variant.sku] = _item(main, variant, number, preferred=True)
        if variant.sku in SECOND_SOURCE:
            found["mercado", variant.sku] = _item(SUPPLIERS["mercado"], variant, number, preferred=False)
    return found


ITEMS: dict[tuple[str, str], ItemSpec] = _items()


def stocking_level(sku: str) -> int:
    """What the central warehouse aims to hold of a SKU: its orders are
    sized from it, and its reorder policy is a share of it."""
    variant = VARIANTS[sku]
    bulk = {"GRM": 50000, "MLT": 40000, "MMT": 100000}
    if variant.unit in bulk:
        return bulk[variant.unit]
    return 96 if variant.price < 5 else 48 if variant.price < 20 else 24 if variant.price < 60 else 12


def store_level(sku: str) -> int:
    """What a store aims to hold of a SKU it sells."""
    return max(stocking_level(sku) // 8, 4) if VARIANTS[sku].unit == "EA" else stocking_level(sku) // 5
