"""Specifications of svc_catalog's rules: GTIN check digits, GTIN-14 form, SKUs,
prices, search words and the archive transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from kit.errors import FailedPrecondition, FieldViolation, Violations
from svc_catalog import domain
from svc_catalog.domain import Money, Product, ProductStatus, Variant, VariantStatus

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def problems(check, value, *args) -> list[FieldViolation]:  # type: ignore[no-untyped-def]
    violations = Violations()
    check(value, "field", violations, *args)
    return violations.items


def variant(sku: str = "SKU-1", status: VariantStatus = VariantStatus.ACTIVE) -> Variant:
    return Variant(
        id=f"v-{sku}",
        tenant_id="t-1",
        product_id="p-1",
        sku=sku,
        display_name="",
        attributes={"color": "Sea green"},
        unit_of_measure="EA",
        list_price=Money("EUR", 10, 0),
        barcode="96385074",
        status=status,
        product_display_name="Trail shoe",
        created_at=NOW,
        updated_at=NOW,
        archived_at=NOW if status is VariantStatus.ARCHIVED else None,
        version=1,
    )


def product(*variants: Variant, status: ProductStatus = ProductStatus.ACTIVE) -> Product:
    return Product(
        id="p-1",
        tenant_id="t-1",
        display_name="Trail shoe",
        description="Grippy, light",
        brand="Acme",
        category="Footwear/Running",
        status=status,
        created_at=NOW,
        updated_at=NOW,
        archived_at=NOW if status is ProductStatus.ARCHIVED else None,
        version=1,
        variants=variants,
    )


# --- GTIN ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "digit"),
    [
        # 9638507: 7·3 + 0·1 + 5·3 + 8·1 + 3·3 + 6·1 + 9·3 = 86, and 86 + 4 = 90
        ("9638507", 4),
        # 03600029145 (UPC-A): 5·3 + 4 + 1·3 + 9 + 2·3 + 0 + 0 + 0 + 6·3 + 3 + 0 = 58, and 58 + 2 = 60
        ("03600029145", 2),
        ("400638133393", 1),  # EAN-13: weights 3,1,... from the right; the sum is 89
        ("1061414100041", 5),  # GTIN-14
        ("0001234560001", 2),
        ("501234567890", 0),  # a sum that is already a multiple of 10 needs 0
    ],
)
def test_the_check_digit_tops_the_weighted_sum_up_to_a_multiple_of_ten(body: str, digit: int) -> None:
    assert domain.gtin_check_digit(body) == digit


@pytest.mark.parametrize("barcode", ["96385074", "036000291452", "4006381333931", "10614141000415"])
def test_gtin_8_12_13_and_14_with_their_check_digit_are_valid(barcode: str) -> None:
    assert problems(domain.check_barcode, barcode) == []


def test_a_wrong_check_digit_is_named_with_the_right_one() -> None:
    (found,) = problems(domain.check_barcode, "036000291453")

    assert found.field == "field"
    assert "must end 2" in found.description


@pytest.mark.parametrize(
    "barcode", ["1234567", "123456789", "03600029145X", "０３６０００２９１４５２", "123456789012345"]
)
def test_anything_but_8_12_13_or_14_ascii_digits_is_malformed(barcode: str) -> None:
    (found,) = problems(domain.check_barcode, barcode)

    assert "8, 12, 13 or 14 digits" in found.description


def test_a_barcode_is_optional_unless_required() -> None:
    assert problems(domain.check_barcode, "") == []
    violations = Violations()
    domain.check_barcode("", "barcode", violations, required=True)
    assert violations.items == [FieldViolation("barcode", "required")]


def test_every_gtin_form_of_one_number_has_the_same_gtin_14() -> None:
    forms = ["036000291452", "0036000291452", "00036000291452"]

    assert {domain.gtin14(f) for f in forms} == {"00036000291452"}
    assert domain.gtin14("96385074") == "00000096385074"


# --- SKUs ------------------------------------------------------------------------------


@pytest.mark.parametrize("sku", ["A", "9", "TS-RED-42", "ts.red_42", "x" * 64])
def test_valid_skus(sku: str) -> None:
    assert problems(domain.check_sku, sku) == []


@pytest.mark.parametrize("sku", ["-A", ".A", "_A", "A B", "A/B", "Ä1", "x" * 65])
def test_invalid_skus(sku: str) -> None:
    assert len(problems(domain.check_sku, sku)) == 1


def test_a_sku_is_required_and_compared_ignoring_case() -> None:
    assert problems(domain.check_sku, "") == [FieldViolation("field", "required")]
    assert domain.sku_key("Ts-Red-42") == domain.sku_key("TS-RED-42")


def test_duplicates_within_one_request_are_named_by_position() -> None:
    violations = Violations()

    domain.check_distinct(
        ["A-1", "B-1", "a-1"], ["036000291452", "", "0036000291452"], "product.variants", violations
    )

    assert [v.field for v in violations.items] == ["product.variants[2].sku", "product.variants[2].barcode"]


# --- money -----------------------------------------------------------------------------


@pytest.mark.parametrize("price", [Money("EUR", 0, 0), Money("USD", 12, 990_000_000), Money("JPY", 500, 0)])
def test_zero_or_positive_prices_are_valid(price: Money) -> None:
    assert problems(domain.check_money, price) == []


@pytest.mark.parametrize(
    ("price", "field"),
    [
        (Money("", 0, 0), "field"),  # unset
        (Money("EUR", -1, 0), "field"),
        (Money("EUR", 0, -1), "field"),
        (Money("eur", 1, 0), "field.currency_code"),
        (Money("EURO", 1, 0), "field.currency_code"),
        (Money("EUR", 1, 1_000_000_000), "field.nanos"),
    ],
)
def test_prices_need_a_currency_code_and_no_negative_amount(price: Money, field: str) -> None:
    assert [v.field for v in problems(domain.check_money, price)] == [field]


# --- other fields ----------------------------------------------------------------------


def test_attribute_keys_and_values_are_bounded() -> None:
    found = problems(domain.check_attributes, {"color": "red", "Size": "42", "note": "x" * 257})

    assert [v.field for v in found] == ["field['Size']", "field['note']"]


def test_units_are_un_ece_codes_and_categories_have_no_empty_segments() -> None:
    assert problems(domain.check_unit, "GRM") == []
    assert problems(domain.check_unit, "") == []  # means EA
    assert len(problems(domain.check_unit, "each")) == 1
    assert problems(domain.check_category, "Footwear/Running") == []
    assert len(problems(domain.check_category, "Footwear/")) == 1


# --- search ----------------------------------------------------------------------------


def test_search_text_holds_each_case_folded_word_once_after_a_space() -> None:
    assert domain.search_text("Trail Shoe", "TS-RED-42", "trail_mix 100%") == " 100 42 mix red shoe trail ts"
    assert domain.words("Straße") == ["strasse"]


def test_product_search_covers_its_variants_but_not_their_attributes() -> None:
    text = domain.product_search_text(product(variant("TS-RED-42")))

    assert " ts" in text
    assert " 96385074" in text
    assert " sea" not in text
    assert " sea" in domain.variant_search_text(variant())


# --- transitions -------------------------------------------------------------------------


def test_archiving_a_product_archives_its_active_variants_once() -> None:
    already = variant("OLD-1", VariantStatus.ARCHIVED)

    archived = domain.archive_product(product(variant("NEW-1"), already), LATER)

    assert archived.status is ProductStatus.ARCHIVED
    assert archived.archived_at == LATER
    assert archived.version == 2
    new, old = archived.variants
    assert (new.status, new.archived_at, new.version) == (VariantStatus.ARCHIVED, LATER, 2)
    assert old is already  # untouched: keeps its own archive time
    assert domain.archive_product(archived, LATER) is archived


def test_unarchiving_a_product_leaves_its_variants_archived() -> None:
    archived = domain.archive_product(product(variant()), NOW)

    revived = domain.unarchive_product(archived, LATER)

    assert (revived.status, revived.archived_at) == (ProductStatus.ACTIVE, None)
    assert revived.variants[0].status is VariantStatus.ARCHIVED


def test_a_variant_of_an_archived_product_stays_archived() -> None:
    archived = domain.archive_product(product(variant()), NOW)

    with pytest.raises(FailedPrecondition) as refused:
        domain.unarchive_variant(archived.variants[0], archived, LATER)

    assert refused.value.reason == "PRODUCT_ARCHIVED"
    revived = domain.unarchive_variant(archived.variants[0], product(), LATER)
    assert (revived.status, revived.archived_at) == (VariantStatus.ACTIVE, None)


def test_a_rename_reaches_every_variant() -> None:
    renamed = domain.revise_product(product(variant("A-1"), variant("B-1")), LATER, display_name="Road shoe")

    assert [v.product_display_name for v in renamed.variants] == ["Road shoe", "Road shoe"]
    assert (renamed.brand, renamed.version, renamed.updated_at) == ("Acme", 2, LATER)


def test_variants_stay_in_sku_order_ignoring_case() -> None:
    grown = domain.with_variant(product(variant("b-1"), variant("C-1")), variant("A-1"))

    assert [v.sku for v in grown.variants] == ["A-1", "b-1", "C-1"]
