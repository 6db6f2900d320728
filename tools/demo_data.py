"""The demo catalogue: about 60 products and 200 variants of a small retailer
selling hardware, groceries and apparel, with list prices in EUR and GTIN-13
barcodes.

Everything here is a pure function of this file: SKUs, barcodes and prices
come out the same on every run, which is what lets `stockmesh demo` find
what an earlier run created. Barcodes use the GS1 restricted-circulation
prefixes 20-29 (numbers for use inside one company), so they can never
collide with a real manufacturer's GTIN.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class VariantSpec:
    sku: str
    display_name: str
    attributes: dict[str, str]
    unit: str  # UN/ECE Rec. 20: EA (each), GRM (gram), MLT (millilitre), MMT (millimetre)
    price: Decimal  # EUR per base unit
    barcode: str


@dataclass(frozen=True)
class ProductSpec:
    code: str
    display_name: str
    description: str
    brand: str
    category: str
    supplier: str  # key of the preferred supplier in demo_plan.SUPPLIERS
    variants: tuple[VariantSpec, ...]


# code, name, brand, category below the section's, preferred supplier, unit,
# list price of the first value of the first axis, price step along that axis,
# axes (attribute key and values; a variant per combination), description.
Axis = tuple[str, tuple[str, ...]]
_Row = tuple[str, str, str, str, str, str, str, str, tuple[Axis, ...], str]

_HARDWARE: tuple[_Row, ...] = (
    ("HAMMER", "Claw hammer", "Bergmann", "Hand tools", "bergmann", "EA", "14.90", "3.00",
     (("weight", ("300 g", "450 g", "600 g")),),
     "Forged steel head, fibreglass handle with anti-vibration grip."),
    ("SCRDRV", "Screwdriver set", "Bergmann", "Hand tools", "bergmann", "EA", "19.90", "10.00",
     (("pieces", ("6-piece", "12-piece")),), "Slotted, Phillips and Pozidriv tips; chrome vanadium."),
    ("WRENCH", "Adjustable wrench", "Bergmann", "Hand tools", "bergmann", "EA", "12.50", "4.00",
     (("length", ("150 mm", "200 mm", "250 mm")),), "Drop-forged, with a metric and imperial scale."),
    ("PLIERS", "Pliers", "Bergmann", "Hand tools", "bergmann", "EA", "11.90", "1.00",
     (("type", ("Combination", "Long nose", "Side cutter")),),
     "Induction-hardened edges, two-component grips."),
    ("TAPE", "Tape measure", "Bergmann", "Measuring", "bergmann", "EA", "6.90", "3.00",
     (("length", ("3 m", "5 m", "8 m")),), "Nylon-coated blade with an auto lock."),
    ("LEVEL", "Spirit level", "Bergmann", "Measuring", "bergmann", "EA", "15.90", "7.00",
     (("length", ("40 cm", "60 cm", "100 cm")),), "Aluminium profile, three vials, accuracy 0.5 mm/m."),
    ("SAW", "Hand saw", "Bergmann", "Hand tools", "bergmann", "EA", "17.90", "4.00",
     (("teeth", ("7 TPI", "11 TPI")),), "Hardened triple-ground teeth for fast, clean cuts."),
    ("CHISEL", "Wood chisel", "Bergmann", "Hand tools", "bergmann", "EA", "8.90", "1.50",
     (("width", ("10 mm", "16 mm", "20 mm", "25 mm")),), "Chrome vanadium blade, impact-resistant handle."),
    ("DRILL", "Cordless drill 18 V", "Lumen", "Power tools", "lumen", "EA", "89.00", "60.00",
     (("kit", ("Bare tool", "2 Ah kit", "4 Ah kit")),), "Two-speed gearbox, 50 Nm, LED work light."),
    ("BITS", "HSS drill bit set", "Bergmann", "Power tools", "bergmann", "EA", "14.90", "10.00",
     (("pieces", ("10-piece", "25-piece")),), "Ground HSS bits from 1 to 10 mm in a metal case."),
    ("SCREWS", "Wood screws, box of 200", "Ferro", "Fasteners", "ferro", "EA", "4.90", "1.20",
     (("size", ("3.5 x 30 mm", "4 x 40 mm", "5 x 50 mm", "6 x 80 mm")),), "Torx drive, zinc plated."),
    ("PLUGS", "Wall plugs, pack of 100", "Ferro", "Fasteners", "ferro", "EA", "3.90", "0.80",
     (("diameter", ("6 mm", "8 mm", "10 mm")),), "Nylon plugs for concrete, brick and stone."),
    ("NAILS", "Wire nails, 1 kg", "Ferro", "Fasteners", "ferro", "EA", "3.50", "0.50",
     (("length", ("40 mm", "60 mm", "80 mm")),), "Bright steel, flat head."),
    ("TIES", "Cable ties, pack of 100", "Ferro", "Fasteners", "ferro", "EA", "2.90", "1.00",
     (("length", ("100 mm", "200 mm", "300 mm")),), "UV-resistant black nylon."),
    ("SANDPAPER", "Sandpaper sheets, pack of 10", "Ferro", "Abrasives", "ferro", "EA", "4.50", "0.00",
     (("grit", ("P80", "P120", "P240")),), "Aluminium oxide on paper, 230 x 280 mm."),
    ("MASKING", "Masking tape", "Ferro", "Painting", "ferro", "EA", "2.90", "0.70",
     (("width", ("19 mm", "25 mm", "38 mm")),), "50 m roll, removes cleanly for 14 days."),
    ("BRUSH", "Paint brush", "Bergmann", "Painting", "bergmann", "EA", "3.90", "2.00",
     (("width", ("25 mm", "50 mm", "75 mm")),), "Synthetic bristles for water-based paints."),
    ("PAINT", "Interior wall paint", "Farbwerk", "Painting", "ferro", "EA", "24.90", "45.00",
     (("volume", ("2.5 L", "10 L")), ("colour", ("Polar white", "Ivory", "Stone grey"))),
     "Matt emulsion, opacity class 1, low emission."),
    ("GLOVES", "Work gloves", "Ferro", "Safety", "ferro", "EA", "5.90", "0.00",
     (("size", ("S", "M", "L", "XL")),), "Nitrile-coated, breathable back."),
    ("GLASSES", "Safety glasses", "Ferro", "Safety", "ferro", "EA", "7.90", "1.00",
     (("lens", ("Clear", "Tinted")),), "EN 166 impact-rated polycarbonate lens."),
    ("CORD", "Extension cord", "Lumen", "Electrical", "lumen", "EA", "9.90", "8.00",
     (("length", ("5 m", "10 m", "25 m")),), "3 x 1.5 mm² rubber cable, IP44 socket."),
    ("BULB", "LED bulb E27", "Lumen", "Lighting", "lumen", "EA", "4.90", "1.50",
     (("output", ("806 lm", "1055 lm")), ("colour", ("Warm white", "Cool white"))), "Frosted, 15 000 h."),
    ("BATTERY", "Alkaline batteries, 8-pack", "Lumen", "Electrical", "lumen", "EA", "5.90", "0.00",
     (("size", ("AA", "AAA")),), "1.5 V, ten years' shelf life."),
    ("PADLOCK", "Padlock", "Bergmann", "Security", "bergmann", "EA", "7.90", "4.00",
     (("width", ("30 mm", "40 mm", "50 mm")),), "Solid brass body, hardened shackle, two keys."),
    ("CHAIN", "Steel chain, by the metre", "Ferro", "Chain & rope", "ferro", "MMT", "0.0069", "0.0030",
     (("thickness", ("3 mm", "5 mm")),), "Galvanised short-link chain, sold per mm."),
    ("HOSE", "Garden hose", "Bergmann", "Garden", "bergmann", "EA", "19.90", "12.00",
     (("length", ("15 m", "25 m")),), "Half-inch, kink-resistant, four layers."),
)  # fmt: skip

_GROCERY: tuple[_Row, ...] = (
    ("ESPRESSO", "Espresso beans", "Nordkaffee", "Coffee & tea", "nordkaffee", "EA", "6.49", "15.50",
     (("size", ("250 g", "1 kg")), ("roast", ("Classico", "Intenso"))), "Whole beans, drum roasted."),
    ("FILTER", "Filter coffee, ground", "Nordkaffee", "Coffee & tea", "nordkaffee", "EA", "4.99", "4.00",
     (("size", ("250 g", "500 g")), ("roast", ("Medium", "Decaf"))), "Medium grind."),
    ("BLACKTEA", "Black tea, 20 bags", "Nordkaffee", "Coffee & tea", "nordkaffee", "EA", "2.79", "0.00",
     (("blend", ("English Breakfast", "Earl Grey", "Assam")),), "Rainforest Alliance."),
    ("GREENTEA", "Green tea, 20 bags", "Nordkaffee", "Coffee & tea", "nordkaffee", "EA", "2.99", "0.00",
     (("blend", ("Sencha", "Jasmine")),), "Steep at 80 °C for two minutes."),
    ("PASTA", "Durum wheat pasta, 500 g", "Casa Verde", "Pasta & rice", "alpenhof", "EA", "1.29", "0.00",
     (("shape", ("Spaghetti", "Penne", "Fusilli", "Farfalle")),), "Bronze-die cut."),
    ("RICE", "Basmati rice, 1 kg", "Casa Verde", "Pasta & rice", "alpenhof", "EA", "2.99", "0.00",
     (), "Aged long-grain rice."),
    ("RICELOOSE", "Basmati rice, loose", "Casa Verde", "Bulk", "alpenhof", "GRM", "0.0039", "0.00",
     (), "From the refill station, priced per gram."),
    ("OLIVEOIL", "Extra virgin olive oil", "Casa Verde", "Oils & vinegar", "alpenhof", "EA", "6.99", "5.50",
     (("volume", ("500 ml", "1 L")),), "Cold pressed, harvest 2024."),
    ("OILREFILL", "Olive oil, loose", "Casa Verde", "Bulk", "alpenhof", "MLT", "0.0109", "0.00",
     (), "From the refill station, priced per millilitre."),
    ("BALSAMIC", "Balsamic vinegar of Modena", "Casa Verde", "Oils & vinegar", "alpenhof",
     "EA", "3.49", "2.00",
     (("volume", ("250 ml", "500 ml")),), "IGP, aged in oak."),
    ("PASSATA", "Tomato passata", "Casa Verde", "Canned & jarred", "alpenhof", "EA", "1.19", "0.40",
     (("size", ("500 g", "700 g")),), "Sieved Italian tomatoes, nothing added."),
    ("PULSES", "Pulses, 400 g tin", "Casa Verde", "Canned & jarred", "alpenhof", "EA", "0.99", "0.10",
     (("type", ("Chickpeas", "Red lentils", "Kidney beans")),), "Cooked, ready to use."),
    ("TUNA", "Tuna in olive oil", "Casa Verde", "Canned & jarred", "alpenhof", "EA", "2.49", "1.00",
     (("pack", ("160 g", "3 x 80 g")),), "Pole and line caught skipjack."),
    ("OATS", "Rolled oats", "Alpenhof", "Breakfast", "alpenhof", "EA", "1.19", "0.90",
     (("size", ("500 g", "1 kg")),), "Wholegrain, tender flakes."),
    ("MUESLI", "Muesli, 750 g", "Alpenhof", "Breakfast", "alpenhof", "EA", "3.49", "0.00",
     (("recipe", ("Classic", "Crunchy berry", "No added sugar")),), "Oats, nuts and dried fruit."),
    ("HONEY", "Honey", "Alpenhof", "Spreads", "alpenhof", "EA", "4.99", "3.50",
     (("size", ("250 g", "500 g")), ("type", ("Blossom", "Forest"))), "From beekeepers in the Alps."),
    ("JAM", "Fruit spread, 340 g", "Alpenhof", "Spreads", "alpenhof", "EA", "2.79", "0.00",
     (("fruit", ("Strawberry", "Apricot", "Sour cherry")),), "70 % fruit."),
    ("PEANUT", "Peanut butter, 350 g", "Alpenhof", "Spreads", "alpenhof", "EA", "3.29", "0.00",
     (("texture", ("Smooth", "Crunchy")),), "Roasted peanuts and a pinch of salt."),
    ("CHOCOLATE", "Dark chocolate, 100 g", "Alpenhof", "Sweets", "alpenhof", "EA", "2.29", "0.00",
     (("recipe", ("70 % cocoa", "85 % cocoa", "Sea salt")),), "Fairtrade cocoa."),
    ("WATER", "Mineral water", "Alpenhof", "Drinks", "alpenhof", "EA", "0.69", "3.30",
     (("pack", ("1.5 L", "6 x 1.5 L")), ("type", ("Sparkling", "Still"))), "Natural mineral water."),
    ("JUICE", "Orange juice, 1 L", "Alpenhof", "Drinks", "alpenhof", "EA", "2.49", "0.00",
     (("style", ("Smooth", "With pulp")),), "Not from concentrate."),
    ("FLOUR", "Wheat flour, 1 kg", "Alpenhof", "Baking", "alpenhof", "EA", "0.89", "0.20",
     (("type", ("Type 405", "Type 550", "Type 1050")),), "Milled in Bavaria."),
    ("SUGAR", "Cane sugar, 1 kg", "Alpenhof", "Baking", "alpenhof", "EA", "2.49", "0.00",
     (), "Unrefined, fairtrade."),
    ("SALT", "Sea salt, 500 g", "Alpenhof", "Spices", "alpenhof", "EA", "1.49", "0.00",
     (("grain", ("Fine", "Coarse")),), "Atlantic sea salt."),
    ("PEPPER", "Black pepper, 50 g", "Alpenhof", "Spices", "alpenhof", "EA", "2.99", "0.00",
     (("form", ("Whole", "Ground")),), "Tellicherry pepper."),
)  # fmt: skip

_APPAREL: tuple[_Row, ...] = (
    ("TEE", "Crew neck T-shirt", "Northline", "Tops", "northline", "EA", "14.90", "0.00",
     (("colour", ("White", "Black", "Navy")), ("size", ("S", "M", "L", "XL"))),
     "Organic cotton jersey, 180 g/m²."),
    ("HOODIE", "Hooded sweatshirt", "Northline", "Tops", "northline", "EA", "44.90", "0.00",
     (("colour", ("Heather grey", "Black")), ("size", ("S", "M", "L", "XL"))), "Brushed fleece inside."),
    ("CHINO", "Chino trousers", "Northline", "Trousers", "northline", "EA", "49.90", "0.00",
     (("colour", ("Sand", "Navy")), ("waist", ("W30", "W32", "W34", "W36"))), "Stretch twill, slim fit."),
    ("SOCKS", "Merino hiking socks", "Northline", "Accessories", "northline", "EA", "12.90", "0.00",
     (("colour", ("Grey", "Anthracite")), ("size", ("39-42", "43-46"))), "Cushioned sole."),
    ("RAINJKT", "Rain jacket", "Northline", "Outerwear", "northline", "EA", "79.90", "0.00",
     (("colour", ("Yellow", "Navy")), ("size", ("S", "M", "L", "XL"))), "Waterproof 10 000 mm, taped seams."),
    ("BEANIE", "Knitted beanie", "Northline", "Accessories", "northline", "EA", "16.90", "0.00",
     (("colour", ("Charcoal", "Olive", "Rust")),), "Lambswool blend, one size."),
    ("FLEECE", "Fleece jacket", "Northline", "Outerwear", "northline", "EA", "39.90", "0.00",
     (("colour", ("Forest green", "Black")), ("size", ("M", "L", "XL"))), "Recycled polyester."),
    ("BELT", "Leather belt", "Northline", "Accessories", "northline", "EA", "29.90", "0.00",
     (("colour", ("Brown", "Black")), ("length", ("90 cm", "100 cm"))), "Vegetable-tanned, brass buckle."),
    ("CAP", "Baseball cap", "Northline", "Accessories", "northline", "EA", "17.90", "0.00",
     (("colour", ("Navy", "Stone")),), "Washed cotton twill, adjustable."),
    ("WORKPANTS", "Work trousers", "Northline", "Workwear", "northline", "EA", "54.90", "0.00",
     (("size", ("48", "50", "52", "54")),), "Knee pad pockets, reinforced seat."),
)  # fmt: skip

# SKU prefix, GS1 prefix (2 + this digit), top-level category, rows.
_SECTIONS = (
    ("HW", "1", "Hardware", _HARDWARE),
    ("GR", "2", "Grocery", _GROCERY),
    ("AP", "3", "Apparel", _APPAREL),
)


def gtin13(body: str) -> str:
    """`body` (12 digits) with its GS1 check digit appended."""
    if len(body) != 12 or not body.isdigit():
        raise ValueError(f"a GTIN-13 body is 12 digits, not {body!r}")
    # GS1 weighs the digits 1, 3, 1, 3, ... from the left for a GTIN-13.
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def _code(value: str) -> str:
    # "3.5 x 30 mm" -> "3.5X30MM", "70 % cocoa" -> "70PCTCOCOA": SKU characters only.
    return re.sub(r"[^A-Z0-9.]", "", value.upper().replace("%", "PCT"))[:16]


def _build() -> tuple[ProductSpec, ...]:
    products = []
    number = 0
    for prefix, digit, top, rows in _SECTIONS:
        for code, name, brand, category, supplier, unit, base, step, axes, description in rows:
            number += 1
            variants = []
            combos = list(itertools.product(*(values for _, values in axes)))
            for index, combo in enumerate(combos, start=1):
                position = axes[0][1].index(combo[0]) if axes else 0
                variants.append(
                    VariantSpec(
                        sku="-".join([prefix, code, *(_code(v) for v in combo)]),
                        display_name=" / ".join(combo) or name,
                        attributes={key: value for (key, _), value in zip(axes, combo, strict=True)},
                        unit=unit,
                        price=Decimal(base) + Decimal(step) * position,
                        # Product and variant numbers make it unique in the
                        # catalogue, and stable while the rows keep their order.
                        barcode=gtin13(f"2{digit}{number:05d}{index:05d}"),
                    )
                )
            products.append(
                ProductSpec(code, name, description, brand, f"{top}/{category}", supplier, tuple(variants))
            )
    return tuple(products)


PRODUCTS: tuple[ProductSpec, ...] = _build()
VARIANTS: dict[str, VariantSpec] = {v.sku: v for p in PRODUCTS for v in p.variants}
PRODUCT_OF: dict[str, ProductSpec] = {v.sku: p for p in PRODUCTS for v in p.variants}
