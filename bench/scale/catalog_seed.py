"""The catalog of a store chain: one product per article, each with one variant,
named from a small vocabulary so that searches behave as on real data.

Every name is "{brand} {adjective} {noun}"; one product in a thousand is an
"Aurora Edition" (the word RARE), and no word of the vocabulary, SKU or barcode
starts with ABSENT, so a search for it matches nothing.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench.scale.bulk import random_uuid
from svc_catalog import domain

RARE = "aurora"
ABSENT = "quasar"
RARE_EVERY = 1000

BRANDS = (
    "Northwind", "Fjordline", "Cascade", "Helix", "Summit", "Tundra", "Meridian", "Bramble",
    "Copperleaf", "Driftwood", "Evergreen", "Foxglove", "Granite", "Harbor", "Ironbark", "Juniper",
    "Kestrel", "Larkspur", "Mistral", "Nimbus", "Oakridge", "Pinecrest", "Redwood", "Saltmarsh",
    "Thornbury", "Upland", "Vireo", "Willow", "Yarrow", "Zephyr",
)  # fmt: skip
ADJECTIVES = (
    "Classic", "Urban", "Alpine", "Coastal", "Everyday", "Premium", "Compact", "Rugged", "Light",
    "Heritage", "Nordic", "Studio", "Outdoor", "Modern", "Vintage", "Essential", "Soft", "Thermal",
    "Waterproof", "Travel",
)  # fmt: skip
NOUNS = {
    "Footwear/Running": ("Running Shoe", "Trail Shoe", "Racing Flat"),
    "Footwear/Hiking": ("Hiking Boot", "Approach Shoe", "Gaiter"),
    "Apparel/Jackets": ("Rain Jacket", "Down Jacket", "Fleece", "Windbreaker"),
    "Apparel/Shirts": ("T-Shirt", "Polo", "Flannel Shirt", "Base Layer"),
    "Home/Kitchen": ("Chef Knife", "Frying Pan", "Kettle", "Cutting Board"),
    "Home/Bedding": ("Duvet", "Pillow", "Blanket", "Sheet Set"),
    "Garden/Tools": ("Spade", "Pruner", "Watering Can", "Rake"),
    "Electronics/Audio": ("Headphones", "Speaker", "Earbuds", "Radio"),
    "Sports/Cycling": ("Helmet", "Bike Light", "Water Bottle", "Saddle Bag"),
    "Toys/Games": ("Board Game", "Puzzle", "Building Set", "Kite"),
}
COLORS = ("Black", "White", "Red", "Navy", "Olive", "Grey", "Sand", "Teal", "Ochre", "Plum")
SIZES = ("XS", "S", "M", "L", "XL", "One Size")
CATEGORIES = tuple(NOUNS)


@dataclass(frozen=True, slots=True)
class Article:
    product_id: str
    variant_id: str
    sku: str
    barcode: str
    display_name: str
    brand: str
    category: str
    description: str
    color: str
    size: str
    price_units: int
    price_nanos: int


def barcode(i: int) -> str:
    """An EAN-13 from the GS1 in-store range (prefix 200), with its check digit."""
    body = f"200{i:09d}"
    return body + str(domain.gtin_check_digit(body))


def article(i: int, rng: random.Random) -> Article:
    brand, adjective, category = rng.choice(BRANDS), rng.choice(ADJECTIVES), rng.choice(CATEGORIES)
    noun, color = rng.choice(NOUNS[category]), rng.choice(COLORS)
    name = f"{brand} {adjective} {noun}" + (" Aurora Edition" if i % RARE_EVERY == RARE_EVERY // 2 else "")
    return Article(
        product_id=random_uuid(rng),
        variant_id=random_uuid(rng),
        sku=f"SM-{i:06d}",
        barcode=barcode(i),
        display_name=name,
        brand=brand,
        category=category,
        description=f"{adjective} {noun.lower()} in {color.lower()} by {brand}.",
        color=color,
        size=rng.choice(SIZES),
        price_units=rng.randint(3, 300),
        price_nanos=rng.choice((0, 490_000_000, 990_000_000)),
    )


def articles(n: int, rng: random.Random) -> list[Article]:
    found = [article(i, rng) for i in range(n)]
    rare = sum(RARE in a.display_name.casefold() for a in found)
    assert rare == max(1, n // RARE_EVERY), rare
    return found


def variant_name(a: Article) -> str:
    return f"{a.color} / {a.size}"


def product_rows(tenant_id: str, items: list[Article], made: datetime) -> Iterator[dict[str, Any]]:
    for a in items:
        yield {
            "id": a.product_id,
            "tenant_id": tenant_id,
            "display_name": a.display_name,
            "sort_key": domain.sort_key(a.display_name),
            "description": a.description,
            "brand": a.brand,
            "brand_key": a.brand.casefold(),
            "category": a.category,
            "status": domain.ProductStatus.ACTIVE.value,
            # As domain.product_search_text: the product's texts, then each variant's.
            "search_text": domain.search_text(
                a.display_name, a.brand, a.category, a.description, a.sku, variant_name(a), a.barcode
            ),
            "created_at": made,
            "updated_at": made,
            "archived_at": None,
            "version": 1,
        }


def variant_rows(tenant_id: str, items: list[Article], made: datetime) -> Iterator[dict[str, Any]]:
    for a in items:
        attributes = {"color": a.color.lower(), "size": a.size}
        yield {
            "id": a.variant_id,
            "tenant_id": tenant_id,
            "product_id": a.product_id,
            "sku": a.sku,
            "sku_key": domain.sku_key(a.sku),
            "display_name": variant_name(a),
            "attributes": json.dumps(attributes, sort_keys=True),
            "unit_of_measure": domain.DEFAULT_UNIT,
            "price_currency": "EUR",
            "price_units": a.price_units,
            "price_nanos": a.price_nanos,
            "barcode": a.barcode,
            "barcode_key": domain.gtin14(a.barcode),
            "status": domain.VariantStatus.ACTIVE.value,
            # As domain.variant_search_text.
            "search_text": domain.search_text(a.sku, variant_name(a), a.barcode, *attributes.values()),
            "created_at": made,
            "updated_at": made,
            "archived_at": None,
            "version": 1,
        }
