"""What happens at the demo retailer: purchase orders in every state, direct
receipts, a transfer, counts and adjustments, sales in shops and online, and
the reorder policies that make some levels low. A pure function of this file,
except for sale times, which the flows place relative to today."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tools.demo_data import PRODUCT_OF, VARIANTS
from tools.demo_plan import ITEMS, stocking_level, store_level

Lines = tuple[tuple[str, int], ...]  # (sku, quantity)


@dataclass(frozen=True)
class PurchasePlan:
    key: str  # marks the order: its note starts with "[demo <key>]"
    supplier: str
    warehouse: str
    lines: Lines
    target: str  # the PurchaseOrderState name, without its prefix
    deliveries: tuple[Lines, ...] = ()  # receipts, in order
    note: str = ""
    end_reason: str = ""

    @property
    def marker(self) -> str:
        return f"[demo {self.key}]"


@dataclass(frozen=True)
class MovementPlan:
    reference: str  # marks the movements: nothing else uses this reference
    warehouse: str
    lines: Lines  # receipts and transfers: quantities; counts: the difference to find
    note: str = ""
    destination: str = ""  # transfers only
    reasons: tuple[tuple[str, str], ...] = ()  # adjustments: (reason, note) per line


@dataclass(frozen=True)
class SalePlan:
    external_id: str  # unique per channel: what marks the order
    channel: str
    customer: str
    lines: Lines
    target: str  # the OrderStatus name, without its prefix
    carrier: str = ""
    returns: tuple[tuple[str, Lines], ...] = ()  # (ReturnReason name, lines), in order
    note: str = ""


@dataclass(frozen=True)
class PosSale:
    external_id: str
    days_ago: int
    minute: int  # of the day, UTC
    lines: Lines


@dataclass(frozen=True)
class PolicyPlan:
    warehouse: str
    levels: dict[str, tuple[int, int]] = field(default_factory=dict)  # sku -> (point, quantity)


def _skus(supplier: str, *codes: str) -> list[str]:
    return [
        sku
        for (source, sku), item in ITEMS.items()
        if source == supplier and (item.preferred or supplier == "mercado")
        if not codes or PRODUCT_OF[sku].code in codes
    ]


def _order(supplier: str, skus: list[str], share: float = 1.0) -> Lines:
    return tuple((sku, ITEMS[supplier, sku].round_up(int(stocking_level(sku) * share))) for sku in skus)


def _split(lines: Lines, share: float) -> tuple[Lines, ...]:
    cut = round(len(lines) * share)
    return lines[:cut], lines[cut:]


NEW_SCREWS = ["HW-SCREWS-5X50MM", "HW-SCREWS-6X80MM"]
_TOOLS = _order("bergmann", _skus("bergmann"))
_APPAREL = _order("northline", _skus("northline"))
_MITTE_APPAREL = _order("northline", _skus("northline", "BEANIE") + _skus("northline", "TEE")[8:], 0.1)
_ALTONA_GROCERY = tuple(
    (s, q) for s, q in _order("alpenhof", _skus("alpenhof"), 0.25) if VARIANTS[s].unit == "EA"
)

PURCHASES = (
    PurchasePlan("PO-01", "bergmann", "dc", _TOOLS, "RECEIVED", _split(_TOOLS, 0.6),
                 "Opening stock of hand tools; delivered in two parts."),
    PurchasePlan("PO-02", "ferro", "dc", _order("ferro", [s for s in _skus("ferro") if s not in NEW_SCREWS]),
                 "RECEIVED", note="Opening stock: fasteners, paint and safety gear."),
    PurchasePlan("PO-03", "lumen", "dc", _order("lumen", _skus("lumen")), "RECEIVED",
                 note="Opening stock: electrical and power tools."),
    PurchasePlan("PO-04", "alpenhof", "dc", _order("alpenhof", _skus("alpenhof")), "RECEIVED",
                 note="Opening stock: groceries."),
    PurchasePlan("PO-05", "nordkaffee", "dc", _order("nordkaffee", _skus("nordkaffee")), "RECEIVED",
                 note="Opening stock: coffee and tea."),
    PurchasePlan("PO-06", "northline", "dc", _APPAREL, "PARTIALLY_RECEIVED", _split(_APPAREL, 0.65)[:1],
                 "Autumn collection; outerwear and accessories to follow."),
    PurchasePlan("PO-07", "lumen", "dc", _order("lumen", _skus("lumen", "BULB", "BATTERY"), 0.5), "SUBMITTED",
                 note="Top-up of bulbs and batteries before the winter season."),
    PurchasePlan("PO-08", "ferro", "dc", _order("ferro", [*NEW_SCREWS, "HW-PLUGS-8MM"], 0.5), "DRAFT",
                 note="New screw sizes for the trade counter."),
    PurchasePlan("PO-09", "mercado", "dc", _order("mercado", _skus("mercado", "PASTA", "RICE"), 0.5),
                 "CANCELLED", note="Second source for pasta and rice.",
                 end_reason="The wholesaler cannot deliver before the end of the month."),
    PurchasePlan("PO-10", "northline", "mitte", _MITTE_APPAREL, "CLOSED", (_MITTE_APPAREL[:-2],),
                 "Shop-in-shop apparel corner.", "The last two items were discontinued by the supplier."),
    PurchasePlan("PO-11", "alpenhof", "altona", _ALTONA_GROCERY, "RECEIVED",
                 note="Direct store delivery: groceries for the Altona shop."),
)  # fmt: skip

_HARDWARE_SMALL = [s for s in VARIANTS if PRODUCT_OF[s].code in {"BULB", "BATTERY", "TAPE", "GLOVES", "TIES"}]
MITTE_RANGE = [s for s in VARIANTS if s.startswith("GR-")] + _HARDWARE_SMALL
ALTONA_RANGE = [
    s for s in VARIANTS if s.startswith("HW-") and s not in NEW_SCREWS and VARIANTS[s].unit == "EA"
]
_TRANSFERRED = tuple((sku, 4) for sku, _ in _split(_APPAREL, 0.65)[0][:12])

RECEIPTS = (
    MovementPlan("DN-MITTE-0001", "mitte", tuple((s, store_level(s)) for s in MITTE_RANGE),
                 "Opening stock taken over from the previous shop system."),
    MovementPlan("DN-ALTONA-0001", "altona", tuple((s, store_level(s)) for s in ALTONA_RANGE),
                 "Opening stock taken over from the previous shop system."),
)  # fmt: skip
TRANSFER = MovementPlan(
    "TR-DC-ALTONA-0001", "dc", _TRANSFERRED, "Apparel for the Altona window display.", "altona"
)
COUNTS = (
    MovementPlan("CC-DC-0001", "dc", (
        ("HW-HAMMER-450G", 0), ("HW-SCREWS-4X40MM", -1), ("HW-NAILS-60MM", 0), ("HW-GLOVES-L", 2),
        ("GR-PASTA-PENNE", 0), ("GR-FLOUR-TYPE405", -3), ("GR-SUGAR", 0), ("GR-RICELOOSE", -250),
        ("HW-CHAIN-5MM", 0), ("GR-JAM-APRICOT", -1)), "Quarterly count, aisles 1 to 4."),
    MovementPlan("CC-MITTE-0001", "mitte", (
        ("GR-PASTA-FUSILLI", 0), ("GR-OATS-500G", -1), ("GR-SALT-FINE", 0), ("GR-OILREFILL", -120)),
        "Weekly count of the refill station and dry goods."),
)  # fmt: skip
ADJUSTMENTS = (
    MovementPlan("ADJ-DC-0001", "dc", (("GR-HONEY-500G-FOREST", -2), ("HW-GLOVES-M", 3)), reasons=(
        ("ADJUSTMENT_REASON_DAMAGE", "Two jars broken in aisle 4."),
        ("ADJUSTMENT_REASON_FOUND", "A carton found behind the returns shelf."))),
    MovementPlan("ADJ-MITTE-0001", "mitte", (("GR-JUICE-SMOOTH", -3),), reasons=(
        ("ADJUSTMENT_REASON_EXPIRED", "Past its best-before date."),)),
)  # fmt: skip

WEB, WHOLESALE, PHONE = "SALES_CHANNEL_WEB_SHOP", "SALES_CHANNEL_WHOLESALE", "SALES_CHANNEL_PHONE"
ORDERS = (
    SalePlan("WEB-100231", WEB, "c.meyer@example.com",
             (("GR-ESPRESSO-1KG-CLASSICO", 2), ("GR-HONEY-250G-BLOSSOM", 1)), "SHIPPED", "DHL"),
    SalePlan("WEB-100232", WEB, "j.schulz@example.com",
             (("HW-DRILL-2AHKIT", 1), ("HW-BITS-25PIECE", 1)), "SHIPPED", "DPD"),
    SalePlan("WEB-100233", WEB, "a.fischer@example.com", (("AP-TEE-NAVY-M", 2),), "RETURNED", "DHL",
             (("RETURN_REASON_UNWANTED", (("AP-TEE-NAVY-M", 2),)),)),
    SalePlan("WEB-100234", WEB, "m.wagner@example.com",
             (("HW-PAINT-2.5L-IVORY", 2), ("HW-BRUSH-50MM", 1), ("HW-MASKING-25MM", 2)), "PARTIALLY_RETURNED",
             "UPS", (("RETURN_REASON_DAMAGED", (("HW-PAINT-2.5L-IVORY", 1),)),)),
    SalePlan("WEB-100235", WEB, "l.becker@example.com", (("GR-OLIVEOIL-1L", 3),), "CANCELLED",
             note="The customer ordered again with another delivery address."),
    SalePlan("WEB-100236", WEB, "s.hoffmann@example.com",
             (("HW-LEVEL-60CM", 1), ("HW-TAPE-5M", 1)), "RESERVED"),
    SalePlan("WEB-100237", WEB, "k.schaefer@example.com",
             (("GR-BLACKTEA-EARLGREY", 4), ("GR-JAM-STRAWBERRY", 2)), "RESERVED"),
    SalePlan("B2B-5001", WHOLESALE, "Café Rosenthal GmbH",
             (("GR-ESPRESSO-1KG-INTENSO", 10), ("GR-BLACKTEA-ENGLISHBREAKFAST", 12)), "SHIPPED",
             "DB Schenker"),
    SalePlan("TEL-2001", PHONE, "Hausverwaltung Kranz",
             (("HW-BULB-806LM-WARMWHITE", 20), ("HW-CORD-10M", 2)), "SHIPPED", "GLS"),
)  # fmt: skip


def _pos(store: str, stock: dict[str, int], count: int) -> tuple[PosSale, ...]:
    """A fortnight of till receipts that the store's stock can always cover."""
    rng = random.Random(f"stockmesh-demo-pos-{store}")  # noqa: S311 - demo data, not secrets
    sales = []
    for n in range(1, count + 1):
        lines: dict[str, int] = {}
        for sku in rng.sample(sorted(stock), rng.randint(1, 3)):
            quantity = rng.randint(1, 2) if VARIANTS[sku].unit == "EA" else rng.choice((250, 500, 1000))
            # The margin keeps counts and adjustments from leaving a sale short.
            if stock[sku] - quantity >= (3 if VARIANTS[sku].unit == "EA" else 1000):
                stock[sku] -= quantity
                lines[sku] = quantity
        if lines:
            days_ago = 14 - (n - 1) * 14 // count
            minute = 9 * 60 + rng.randint(0, 10 * 60)
            sales.append(PosSale(f"POS-{store.upper()}-{n:05d}", days_ago, minute, tuple(lines.items())))
    return tuple(sales)


POS_SALES = {
    "mitte": _pos("mitte", dict(RECEIPTS[0].lines), 28),
    "altona": _pos("altona", dict(RECEIPTS[1].lines), 20),
}

# SKUs the central warehouse deliberately holds too little of, so that
# replenishment has something to propose.
SHORT_AT_DC = (
    "HW-TAPE-8M",
    "HW-BITS-10PIECE",
    "GR-ESPRESSO-1KG-INTENSO",
    "GR-OLIVEOIL-500ML",
    "HW-PADLOCK-40MM",
)


def _policies() -> tuple[PolicyPlan, ...]:
    dc = PolicyPlan("dc")
    for sku in VARIANTS:
        level = stocking_level(sku)
        dc.levels[sku] = (level + level // 4 if sku in SHORT_AT_DC else level // 4, level // 2)
    stores = [PolicyPlan("mitte"), PolicyPlan("altona")]
    for plan, skus in zip(stores, (MITTE_RANGE, ALTONA_RANGE), strict=True):
        for sku in skus:
            plan.levels[sku] = (store_level(sku) // 2, store_level(sku))
    return (dc, *stores)


POLICIES = _policies()
