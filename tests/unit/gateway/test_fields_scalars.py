"""Setting a scalar field from a string: integers in decimal within their type's range,
floating-point numbers with JSON's special values, true/false, UTF-8 strings taken
as they are, and bytes in standard or URL-safe base64."""

from __future__ import annotations

import math

import pytest

from tests.support.fields import Kinds, refusal, set_field


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("int32_value", "-2147483648", -(2**31)),
        ("int32_value", "2147483647", 2**31 - 1),
        ("int32_value", "007", 7),
        ("int64_value", "-9223372036854775808", -(2**63)),
        ("int64_value", "9223372036854775807", 2**63 - 1),
        ("uint32_value", "4294967295", 2**32 - 1),
        ("uint64_value", "18446744073709551615", 2**64 - 1),
        ("sint32_value", "-5", -5),
        ("sint64_value", "-5", -5),
        ("fixed32_value", "5", 5),
        ("fixed64_value", "18446744073709551615", 2**64 - 1),
        ("sfixed32_value", "-5", -5),
        ("sfixed64_value", "-9223372036854775808", -(2**63)),
    ],
)
def test_an_integer_is_decimal_within_its_types_range(path: str, text: str, value: int) -> None:
    message = Kinds()
    set_field(message, path, text)

    assert getattr(message, path) == value


@pytest.mark.parametrize(
    ("path", "text", "low", "high"),
    [
        ("int32_value", "2147483648", -(2**31), 2**31 - 1),
        ("uint32_value", "-1", 0, 2**32 - 1),
        ("int64_value", "9223372036854775808", -(2**63), 2**63 - 1),
        ("uint64_value", "18446744073709551616", 0, 2**64 - 1),
        ("int32_value", "abc", -(2**31), 2**31 - 1),
        ("int32_value", "1.5", -(2**31), 2**31 - 1),
        ("int32_value", "1e3", -(2**31), 2**31 - 1),
        ("int32_value", " 1", -(2**31), 2**31 - 1),
        ("int32_value", "+1", -(2**31), 2**31 - 1),
        ("int32_value", "1_000", -(2**31), 2**31 - 1),
        ("int32_value", "0x10", -(2**31), 2**31 - 1),
        ("int32_value", "", -(2**31), 2**31 - 1),
        ("int64_value", "9" * 5000, -(2**63), 2**63 - 1),
    ],
)
def test_anything_else_is_refused_saying_what_integer_was_expected(
    path: str, text: str, low: int, high: int
) -> None:
    refused = refusal(Kinds(), path, text)

    assert refused.field == path
    assert refused.description.startswith(f"expected an integer from {low} to {high}, got ")


@pytest.mark.parametrize(
    ("path", "text", "value"),
    [
        ("double_value", "1.5", 1.5),
        ("double_value", "-2e3", -2000.0),
        ("double_value", ".5", 0.5),
        ("double_value", "7", 7.0),
        ("double_value", "Infinity", math.inf),
        ("double_value", "-Infinity", -math.inf),
        ("float_value", "0.25", 0.25),
        ("float_value", "-Infinity", -math.inf),
    ],
)
def test_a_number_is_decimal_or_a_json_special_value(path: str, text: str, value: float) -> None:
    message = Kinds()
    set_field(message, path, text)

    assert getattr(message, path) == value


def test_nan_is_a_number() -> None:
    message = Kinds()
    set_field(message, "doubleValue", "NaN")

    assert math.isnan(message.double_value)


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("double_value", "inf"),
        ("double_value", "nan"),
        ("double_value", "1e999"),
        ("double_value", "1,5"),
        ("double_value", ""),
        ("double_value", "0x1p3"),
        ("float_value", "1e39"),
    ],
)
def test_a_number_out_of_range_or_in_another_spelling_is_refused(path: str, text: str) -> None:
    assert "number, NaN, Infinity or -Infinity" in refusal(Kinds(), path, text).description


def test_a_bool_is_true_or_false() -> None:
    message = Kinds()
    set_field(message, "boolValue", "true")

    assert message.bool_value is True
    for text in ("1", "True", "yes", ""):
        assert refusal(Kinds(), "boolValue", text).description == f"expected true or false, got {text!r}"


def test_a_string_is_taken_as_it_is() -> None:
    message = Kinds()
    set_field(message, "stringValue", " a,b=c ")

    assert message.string_value == " a,b=c "


def test_a_string_that_is_not_utf_8_is_refused() -> None:
    undecodable = b"caf\xe9".decode(errors="surrogateescape")

    assert refusal(Kinds(), "stringValue", undecodable).description == "expected UTF-8 text"


@pytest.mark.parametrize("text", ["+/8=", "+/8", "-_8=", "-_8"])
def test_bytes_are_standard_or_url_safe_base64_padded_or_not(text: str) -> None:
    message = Kinds()
    set_field(message, "bytesValue", text)

    assert message.bytes_value == b"\xfb\xff"


@pytest.mark.parametrize("text", ["a", "+/8==", "+/8 ", "ab$c", "=", "YQ="])
def test_anything_but_base64_is_refused_for_bytes(text: str) -> None:
    assert refusal(Kinds(), "bytesValue", text).description.startswith("expected base64")
