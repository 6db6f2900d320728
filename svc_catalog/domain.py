"""The rules of products, variants, SKUs, barcodes and prices.

Standard library only: no storage, no gRPC. The use cases validate commands
with the `check_*` functions, ask the transition functions what a change
leads to, and store the answer.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from kit.errors import AlreadyExists, FailedPrecondition, PreconditionViolation, Violations

SKU = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
ATTRIBUTE_KEY = re.compile(r"^[a-z0-9_]{1,64}$")
CURRENCY = re.compile(r"^[A-Z]{3}$")
UNIT = re.compile(r"^[A-Z0-9]{2,3}$")  # UN/ECE Recommendation 20 codes: "EA", "GRM", "C62"
GTIN_LENGTHS = (8, 12, 13, 14)
DEFAULT_UNIT = "EA"
NANOS = 1_000_000_000
MAX_UNITS = 2**63 - 1  # google.type.Money.units is an int64

MAX_NAME = 200
MAX_DESCRIPTION = 4000
MAX_BRAND = 100
MAX_CATEGORY = 200
MAX_ATTRIBUTE_VALUE = 256
MAX_BATCH = 500


class ProductStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


class VariantStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"


@dataclass(frozen=True)
class Money:
    """An amount as google.type.Money holds it: whole units plus nanos (10^-9
    units) of the same sign, so no currency's minor-unit exponent is needed
    and nothing is ever rounded."""

    currency_code: str
    units: int
    nanos: int


@dataclass(frozen=True)
class Variant:
    id: str
    tenant_id: str
    product_id: str
    sku: str
    display_name: str
    attributes: dict[str, str]
    unit_of_measure: str
    list_price: Money
    barcode: str  # as given; "" when none
    status: VariantStatus
    product_display_name: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int


@dataclass(frozen=True)
class Product:
    id: str
    tenant_id: str
    display_name: str
    description: str
    brand: str
    category: str
    status: ProductStatus
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    version: int
    variants: tuple[Variant, ...] = ()  # ordered by SKU, archived ones included


class SkuTaken(AlreadyExists):
    reason = "SKU_TAKEN"

    def __init__(self, sku: str, field: str) -> None:
        super().__init__("sku", sku, field=field)
        self.metadata["field"] = field


class BarcodeTaken(AlreadyExists):
    reason = "BARCODE_TAKEN"

    def __init__(self, barcode: str, field: str) -> None:
        super().__init__("barcode", barcode, field=field)
        self.metadata["field"] = field


# --- identifiers -------------------------------------------------------------


def sort_key(display_name: str) -> str:
    """Products list in this order of their display names: case-insensitive."""
    return display_name.casefold()


def sku_key(sku: str) -> str:
    """The form SKUs are compared in: unique per tenant ignoring case."""
    return sku.lower()


def check_sku(sku: str, field: str, violations: Violations) -> None:
    if not sku:
        violations.add(field, "required")
    elif not SKU.fullmatch(sku):
        violations.add(
            field, "1-64 characters of A-Z, a-z, 0-9, '.', '_' and '-', starting with a letter or digit"
        )


def gtin_check_digit(body: str) -> int:
    """The GS1 check digit of a GTIN without its last digit: weights 3 and 1
    alternate from the right, and the digit tops the sum up to a multiple of 10."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def gtin14(barcode: str) -> str:
    """The GTIN-14 form barcodes are compared in: left-padded with zeros."""
    return barcode.zfill(14)


def check_barcode(barcode: str, field: str, violations: Violations, *, required: bool = False) -> None:
    if not barcode:
        if required:
            violations.add(field, "required")
    elif not barcode.isascii() or not barcode.isdigit() or len(barcode) not in GTIN_LENGTHS:
        violations.add(field, "a GTIN-8, GTIN-12, GTIN-13 or GTIN-14: 8, 12, 13 or 14 digits")
    elif gtin_check_digit(barcode[:-1]) != int(barcode[-1]):
        violations.add(
            field,
            f"wrong check digit: a GTIN ending {barcode[-1]} here must end {gtin_check_digit(barcode[:-1])}",
        )


# --- values ------------------------------------------------------------------


def check_money(money: Money, field: str, violations: Violations) -> None:
    """A list price: a known-looking currency and an amount of zero or more."""
    if money == Money("", 0, 0):
        violations.add(field, "required")
        return
    if not CURRENCY.fullmatch(money.currency_code):
        violations.add(f"{field}.currency_code", "an ISO 4217 code: three uppercase letters, e.g. EUR")
    if not -NANOS < money.nanos < NANOS:
        violations.add(f"{field}.nanos", "between -999,999,999 and 999,999,999")
    elif money.units < 0 or money.nanos < 0:
        violations.add(field, "must be zero or positive")
    if money.units > MAX_UNITS:
        violations.add(f"{field}.units", "too large")


def check_text(value: str, field: str, violations: Violations, limit: int, *, required: bool = False) -> None:
    if required and not value.strip():
        violations.add(field, "required")
    elif len(value) > limit:
        violations.add(field, f"at most {limit} characters")


def check_category(category: str, field: str, violations: Violations) -> None:
    """A path such as "Footwear/Running": segments separated by "/", none empty."""
    check_text(category, field, violations, MAX_CATEGORY)
    if category and any(not part.strip() for part in category.split("/")):
        violations.add(field, 'segments separated by "/", none of them empty')


def check_attributes(attributes: dict[str, str], field: str, violations: Violations) -> None:
    for key, value in sorted(attributes.items()):
        if not ATTRIBUTE_KEY.fullmatch(key):
            violations.add(f"{field}[{key!r}]", "keys are 1-64 characters of a-z, 0-9 and '_'")
        elif len(value) > MAX_ATTRIBUTE_VALUE:
            violations.add(f"{field}[{key!r}]", f"values are at most {MAX_ATTRIBUTE_VALUE} characters")


def check_unit(unit: str, field: str, violations: Violations) -> None:
    if unit and not UNIT.fullmatch(unit):
        violations.add(field, 'a UN/ECE Recommendation 20 code such as "EA", "GRM" or "MLT"')


def check_distinct(skus: list[str], barcodes: list[str], prefix: str, violations: Violations) -> None:
    """Within one request, no two variants may share a SKU (ignoring case) or a barcode (as GTIN-14)."""
    seen_skus: set[str] = set()
    seen_barcodes: set[str] = set()
    for i, (sku, barcode) in enumerate(zip(skus, barcodes, strict=True)):
        if sku and sku_key(sku) in seen_skus:
            violations.add(f"{prefix}[{i}].sku", "duplicates another variant's SKU in this request")
        seen_skus.add(sku_key(sku))
        if barcode and gtin14(barcode) in seen_barcodes:
            violations.add(f"{prefix}[{i}].barcode", "duplicates another variant's barcode in this request")
        seen_barcodes.add(gtin14(barcode))


# --- search ------------------------------------------------------------------

WORD = re.compile(r"[^\W_]+")


def words(*texts: str) -> list[str]:
    """The case-folded words of `texts`: runs of letters and digits."""
    return [w for text in texts for w in WORD.findall(text.casefold())]


def search_text(*texts: str) -> str:
    """What free-text search matches against: each distinct word once, each
    preceded by a space, so "word starts with q" is `LIKE '% q%'`."""
    return "".join(f" {w}" for w in sorted(set(words(*texts))))


def product_search_text(product: Product) -> str:
    texts = [product.display_name, product.brand, product.category, product.description]
    for v in product.variants:
        texts += [v.sku, v.display_name, v.barcode]
    return search_text(*texts)


def variant_search_text(variant: Variant) -> str:
    return search_text(variant.sku, variant.display_name, variant.barcode, *variant.attributes.values())


# --- transitions -------------------------------------------------------------


def revise_product(
    product: Product,
    now: datetime,
    *,
    display_name: str | None = None,
    description: str | None = None,
    brand: str | None = None,
    category: str | None = None,
) -> Product:
    """The product with the given fields changed; its variants carry its display name."""
    name = product.display_name if display_name is None else display_name
    return dataclasses.replace(
        product,
        display_name=name,
        description=product.description if description is None else description,
        brand=product.brand if brand is None else brand,
        category=product.category if category is None else category,
        updated_at=now,
        version=product.version + 1,
        variants=tuple(dataclasses.replace(v, product_display_name=name) for v in product.variants),
    )


def with_variant(product: Product, variant: Variant) -> Product:
    """The product with `variant` added or replaced, its variants kept in SKU order."""
    others = [v for v in product.variants if v.id != variant.id]
    return dataclasses.replace(
        product, variants=tuple(sorted([*others, variant], key=lambda v: sku_key(v.sku)))
    )


def archive_product(product: Product, now: datetime) -> Product:
    """The product and every active variant archived; an archived product is left as it is."""
    if product.status is ProductStatus.ARCHIVED:
        return product
    return dataclasses.replace(
        product,
        status=ProductStatus.ARCHIVED,
        archived_at=now,
        updated_at=now,
        version=product.version + 1,
        variants=tuple(archive_variant(v, now) for v in product.variants),
    )


def unarchive_product(product: Product, now: datetime) -> Product:
    """The product active again; its variants stay archived until each is unarchived."""
    if product.status is ProductStatus.ACTIVE:
        return product
    return dataclasses.replace(
        product, status=ProductStatus.ACTIVE, archived_at=None, updated_at=now, version=product.version + 1
    )


def archive_variant(variant: Variant, now: datetime) -> Variant:
    if variant.status is VariantStatus.ARCHIVED:
        return variant
    return dataclasses.replace(
        variant, status=VariantStatus.ARCHIVED, archived_at=now, updated_at=now, version=variant.version + 1
    )


def unarchive_variant(variant: Variant, product: Product, now: datetime) -> Variant:
    if variant.status is VariantStatus.ACTIVE:
        return variant
    must_be_active(product)
    return dataclasses.replace(
        variant, status=VariantStatus.ACTIVE, archived_at=None, updated_at=now, version=variant.version + 1
    )


def must_be_active(product: Product) -> None:
    """New or revived variants need an active product."""
    if product.status is ProductStatus.ARCHIVED:
        raise FailedPrecondition(
            "the product is archived; unarchive it first",
            [PreconditionViolation("STATUS", f"products/{product.id}", "the product is archived")],
            reason="PRODUCT_ARCHIVED",
        )
