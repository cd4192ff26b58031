"""Value objects of the customer card (DOMAIN.md §1.1): validation, normalisation, errors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import phonenumbers
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from stdnum.cn import ric

from insurcrm.domain.values import (
    CENT,
    Email,
    Gender,
    Money,
    PersonName,
    Phone,
    ResidentId,
    check_not_after,
    check_text,
    total_in,
)
from insurcrm.errors import ValidationError
from insurcrm.testing import strategies as gen
from tests.unit.test_privacy import assert_no_echo

VALID_ID = "11010519491231002X"


def with_check_digit(body: str) -> str:
    """A 17-digit body completed with its GB 11643 check character."""
    return body + ric.calc_check_digit(body + "0")


# -- resident ID number -------------------------------------------------------------------------


class TestResidentId:
    def test_known_number_is_accepted_and_decoded(self) -> None:
        rid = ResidentId(VALID_ID)
        assert rid.value == VALID_ID
        assert rid.birth_date == dt.date(1949, 12, 31)
        assert rid.gender is Gender.FEMALE

    def test_is_stored_normalised_with_upper_case_x_and_trimmed(self) -> None:
        assert ResidentId("  11010519491231002x ").value == VALID_ID
        assert ResidentId("11010519491231002x") == ResidentId(VALID_ID)

    def test_odd_gender_digit_is_male(self) -> None:
        rid = ResidentId(with_check_digit("11010519900307123"))
        assert rid.gender is Gender.MALE
        assert rid.birth_date == dt.date(1990, 3, 7)

    @pytest.mark.parametrize(
        ("raw", "rule"),
        [
            ("11010519491231002", "id_number.length"),
            ("11010519491231002X1", "id_number.length"),
            ("", "id_number.length"),
            ("110105194912310021", "id_number.checksum"),
            ("1101051949123100XX", "id_number.format"),
            ("11010519491231002Y", "id_number.format"),
            ("A10105194912310020", "id_number.format"),
            (with_check_digit("11010519491331002"), "id_number.birth_date"),
            (with_check_digit("11010519490230002"), "id_number.birth_date"),
        ],
    )
    def test_bad_numbers_are_refused_naming_field_and_rule(self, raw: str, rule: str) -> None:
        with pytest.raises(ValidationError) as info:
            ResidentId(raw)
        assert info.value.field == "id_number"
        assert info.value.rule == rule
        if raw:
            assert raw not in str(info.value)

    def test_unknown_region_code_is_refused(self) -> None:
        raw = with_check_digit("99999919900101001")
        with pytest.raises(ValidationError) as info:
            ResidentId(raw)
        assert info.value.field == "id_number"
        assert raw not in str(info.value)

    @pytest.mark.parametrize("raw", [110105194912310020, None, b"11010519491231002X"])
    def test_non_text_is_refused(self, raw: object) -> None:
        with pytest.raises(ValidationError) as info:
            ResidentId(raw)
        assert (info.value.field, info.value.rule) == ("id_number", "text.type")

    @given(gen.resident_ids())
    def test_generated_numbers_are_valid_and_consistent(self, rid: ResidentId) -> None:
        assert len(rid.value) == 18
        assert rid.value[:6] in gen.REGION_CODES
        assert dt.date(1930, 1, 1) <= rid.birth_date <= dt.date(2010, 12, 31)
        assert rid.value[-1] == ric.calc_check_digit(rid.value)
        assert ResidentId(rid.value.lower()) == rid

    @given(
        st.dates(min_value=dt.date(1930, 1, 1), max_value=dt.date(2010, 12, 31)),
        st.sampled_from(Gender),
        st.data(),
    )
    def test_birth_date_and_gender_are_encoded(
        self, born: dt.date, gender: Gender, data: st.DataObject
    ) -> None:
        rid = data.draw(gen.resident_ids(birth_date=born, gender=gender))
        assert rid.birth_date == born
        assert rid.gender is gender

    @given(gen.invalid_resident_id_numbers())
    def test_invalid_numbers_are_refused_without_echoing_them(self, case: tuple[str, str]) -> None:
        rule, raw = case
        with pytest.raises(ValidationError) as info:
            ResidentId(raw)
        assert info.value.field == "id_number"
        assert info.value.rule == rule
        assert raw not in str(info.value)
        assert raw[:14] not in str(info.value)

    @given(gen.resident_ids(), st.integers(min_value=0, max_value=16), st.data())
    def test_any_single_digit_error_is_detected(
        self, rid: ResidentId, position: int, data: st.DataObject
    ) -> None:
        original = rid.value[position]
        digit = data.draw(st.sampled_from([d for d in "0123456789" if d != original]))
        typo = rid.value[:position] + digit + rid.value[position + 1 :]
        with pytest.raises(ValidationError) as info:
            ResidentId(typo)
        assert info.value.field == "id_number"
        assert typo not in str(info.value)

    def test_repr_and_str_are_masked(self) -> None:
        rid = ResidentId(VALID_ID)
        assert repr(rid) == "ResidentId('110105********002X')"
        assert str(rid) == "110105********002X"
        assert VALID_ID not in repr(rid)


# -- phones ---------------------------------------------------------------------------------------


class TestPhone:
    @pytest.mark.parametrize(
        "typed",
        ["13812345678", "138 1234 5678", "138-1234-5678", "+86 138 1234 5678", "+8613812345678"],
    )
    def test_chinese_mobile_is_normalised_to_e164(self, typed: str) -> None:
        assert Phone.parse(typed).e164 == "+8613812345678"

    def test_foreign_number_keeps_its_country(self) -> None:
        phone = Phone.parse("+44 20 7946 0958")
        assert phone.e164 == "+442079460958"
        assert phone.country_code == 44

    def test_default_region_reads_national_numbers(self) -> None:
        assert Phone.parse("020 7946 0958", default_region="GB").e164 == "+442079460958"

    def test_e164_constructor_accepts_canonical_form(self) -> None:
        assert Phone("+8613812345678") == Phone.parse("13812345678")
        assert Phone("+8613812345678").country_code == 86

    @pytest.mark.parametrize(
        ("raw", "rule"),
        [
            ("13812345678", "phone.format"),
            ("+86 138 1234 5678", "phone.invalid"),
            ("+86138123456789", "phone.invalid"),
            ("+861234", "phone.invalid"),
            ("tel:13812345678x", "phone.format"),
        ],
    )
    def test_non_e164_text_is_refused(self, raw: str, rule: str) -> None:
        with pytest.raises(ValidationError) as info:
            Phone(raw)
        assert (info.value.field, info.value.rule) == ("phone", rule)
        assert raw not in str(info.value)

    @pytest.mark.parametrize(
        ("typed", "rule"),
        [
            ("12345", "phone.invalid"),
            ("1381234567", "phone.invalid"),
            ("238 1234 5678", "phone.invalid"),
            ("not a number", "phone.format"),
            ("", "text.required"),
            ("   ", "text.required"),
            ("138\x0012345678", "text.unstorable"),
        ],
    )
    def test_bad_typed_numbers_are_refused(self, typed: str, rule: str) -> None:
        with pytest.raises(ValidationError) as info:
            Phone.parse(typed)
        assert (info.value.field, info.value.rule) == ("phone", rule)
        if typed.strip():
            assert typed not in str(info.value)

    def test_non_text_is_refused(self) -> None:
        with pytest.raises(ValidationError) as info:
            Phone(8613812345678)  # type: ignore[arg-type]
        assert info.value.rule == "text.type"

    @given(gen.cn_mobile_numbers())
    def test_any_typed_chinese_mobile_becomes_e164(self, typed: str) -> None:
        phone = Phone.parse(typed)
        digits = "".join(ch for ch in typed if ch.isdigit())
        assert phone.e164 == "+86" + digits.removeprefix("86")[-11:]
        assert phone.country_code == 86
        assert Phone(phone.e164) == phone

    @given(gen.phones())
    def test_generated_phones_are_valid_e164(self, phone: Phone) -> None:
        parsed = phonenumbers.parse(phone.e164, None)
        assert phonenumbers.is_valid_number(parsed)
        assert phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164) == (
            phone.e164
        )
        assert Phone(phone.e164) == phone
        # parse skips the validator: what it builds must be what the validator accepts
        assert Phone(Phone.parse(phone.e164).e164) == Phone.parse(phone.e164) == phone

    @given(gen.cn_mobile_numbers(), st.integers(min_value=1, max_value=4))
    def test_truncated_numbers_are_refused_without_echoing_them(self, typed: str, cut: int) -> None:
        digits = "".join(ch for ch in typed if ch.isdigit())[-11:]
        short = digits[: 11 - cut]
        with pytest.raises(ValidationError) as info:
            Phone.parse(short)
        assert info.value.field == "phone"
        assert short not in str(info.value)

    def test_repr_and_str_are_masked(self) -> None:
        phone = Phone.parse("13812345678")
        assert repr(phone) == "Phone('+86 138****5678')"
        assert str(phone) == "+86 138****5678"


# -- email ----------------------------------------------------------------------------------------


class TestEmail:
    def test_domain_is_normalised(self) -> None:
        assert Email("Zhang.San@Example.COM").value == "Zhang.San@example.com"

    def test_surrounding_spaces_are_trimmed(self) -> None:
        assert Email("  li@qq.com ").value == "li@qq.com"

    def test_internationalised_address_is_kept(self) -> None:
        assert Email("张三@例子.中国").value == "张三@例子.中国"

    @pytest.mark.parametrize(
        ("raw", "rule"),
        [
            ("zhangsan", "email.invalid"),
            ("zhangsan@", "email.invalid"),
            ("@example.com", "email.invalid"),
            ("zhang san@example.com", "email.invalid"),
            ("zhang@@example.com", "email.invalid"),
            ("zhang@example", "email.invalid"),
            ("", "text.required"),
            ("  ", "text.required"),
            ("a\x00b@example.com", "text.unstorable"),
        ],
    )
    def test_bad_addresses_are_refused(self, raw: str, rule: str) -> None:
        with pytest.raises(ValidationError) as info:
            Email(raw)
        assert (info.value.field, info.value.rule) == ("email", rule)
        if raw.strip():
            assert raw not in str(info.value)

    def test_non_text_is_refused(self) -> None:
        with pytest.raises(ValidationError) as info:
            Email(42)
        assert info.value.rule == "text.type"

    @given(gen.emails())
    def test_normalisation_is_idempotent(self, email: Email) -> None:
        assert Email(email.value) == email
        assert "@" in email.value

    @given(gen.emails())
    def test_missing_at_sign_is_refused_without_echoing(self, email: Email) -> None:
        raw = email.value.replace("@", "")
        assume(raw.strip())
        with pytest.raises(ValidationError) as info:
            Email(raw)
        assert_no_echo(info.value, [raw])

    def test_repr_and_str_are_masked(self) -> None:
        email = Email("zhangsan@example.com")
        assert repr(email) == "Email('z***@example.com')"
        assert "zhangsan" not in str(email)


# -- names and text -------------------------------------------------------------------------------


class TestPersonName:
    @pytest.mark.parametrize(
        "raw",
        ["张伟", "欧阳娜娜", "O'Brien", 'Bob "The Builder"', "'; DROP TABLE customers; --", " 李 "],
    )
    def test_any_unicode_is_kept_exactly(self, raw: str) -> None:
        assert PersonName(raw).value == raw

    @given(gen.person_names())
    def test_generated_names_are_accepted_as_typed(self, raw: str) -> None:
        assert PersonName(raw).value == raw

    @pytest.mark.parametrize(
        ("raw", "rule"),
        [
            ("", "text.required"),
            ("   ", "text.required"),
            ("\u3000\t\n", "text.required"),
            ("张\x00伟", "text.unstorable"),
            ("张\ud800伟", "text.unstorable"),
        ],
    )
    def test_blank_or_unstorable_names_are_refused(self, raw: str, rule: str) -> None:
        with pytest.raises(ValidationError) as info:
            PersonName(raw)
        assert (info.value.field, info.value.rule) == ("name", rule)

    @given(gen.person_names(), st.sampled_from(["\x00", "\ud800", "\udc00"]), st.data())
    def test_nul_or_lone_surrogate_anywhere_is_refused_without_echo(
        self, raw: str, bad: str, data: st.DataObject
    ) -> None:
        cut = data.draw(st.integers(min_value=0, max_value=len(raw)))
        typed = raw[:cut] + bad + raw[cut:]
        with pytest.raises(ValidationError) as info:
            PersonName(typed)
        assert info.value.rule == "text.unstorable"
        assert_no_echo(info.value, [typed, raw])

    def test_non_text_is_refused(self) -> None:
        with pytest.raises(ValidationError) as info:
            PersonName(123)  # type: ignore[arg-type]
        assert (info.value.field, info.value.rule) == ("name", "text.type")

    def test_repr_is_masked(self) -> None:
        assert repr(PersonName("欧阳娜娜")) == "PersonName('欧***')"
        assert str(PersonName("张三丰")) == "张**"


class TestTextChecks:
    def test_check_text_accepts_any_storable_unicode(self) -> None:
        check_text("emoji 👨‍👩‍👧 'quotes' \"double\" \t\n", "note")
        check_text("", "note")

    def test_required_text_must_not_be_blank(self) -> None:
        with pytest.raises(ValidationError) as info:
            check_text(" \n", "profile.position", required=True)
        assert (info.value.field, info.value.rule) == ("profile.position", "text.required")

    def test_check_not_after(self) -> None:
        day = dt.date(2024, 3, 1)
        check_not_after(None, day, "x")
        check_not_after(day, day, "x")
        with pytest.raises(ValidationError) as info:
            check_not_after(day + dt.timedelta(days=1), day, "family[0].birth_date")
        assert (info.value.field, info.value.rule) == ("family[0].birth_date", "date.future")


# -- money ----------------------------------------------------------------------------------------


class TestMoney:
    def test_amount_is_a_two_place_decimal(self) -> None:
        assert Money("12.5").amount == Decimal("12.50")
        assert Money("12.5").amount.as_tuple().exponent == -2
        assert Money(3).amount == Decimal("3.00")
        assert Money(Decimal("0.1")).amount == Decimal("0.10")
        assert Money(" 7 ").amount == Decimal("7.00")

    def test_currency_defaults_to_cny(self) -> None:
        assert Money(1).currency == "CNY"
        assert Money(1, "USD").currency == "USD"

    @pytest.mark.parametrize("raw", [1.5, 0.1, 100.0, float("nan"), float("inf"), True, False])
    def test_floats_and_bools_are_refused(self, raw: object) -> None:
        with pytest.raises(ValidationError) as info:
            Money(raw)
        assert (info.value.field, info.value.rule) == ("amount", "money.float")

    @given(st.floats(allow_nan=True, allow_infinity=True))
    def test_no_float_is_ever_accepted(self, raw: float) -> None:
        with pytest.raises(ValidationError) as info:
            Money(raw)
        assert info.value.rule == "money.float"

    @pytest.mark.parametrize(
        ("raw", "rule"),
        [
            ("-0.01", "money.negative"),
            (-1, "money.negative"),
            (Decimal("-5"), "money.negative"),
            ("1.234", "money.places"),
            (Decimal("0.001"), "money.places"),
            ("abc", "money.format"),
            ("", "money.format"),
            ("NaN", "money.format"),
            ("Infinity", "money.format"),
            ("1e16", "money.range"),
            (10**16, "money.range"),
            (None, "money.type"),
            ([1], "money.type"),
        ],
    )
    def test_bad_amounts_are_refused(self, raw: object, rule: str) -> None:
        with pytest.raises(ValidationError) as info:
            Money(raw)
        assert (info.value.field, info.value.rule) == ("amount", rule)

    def test_largest_amount_is_accepted(self) -> None:
        assert Money("9999999999999999.99").amount == Decimal("9999999999999999.99")

    def test_negative_zero_is_normalised(self) -> None:
        assert str(Money("-0")) == "CNY 0.00"
        assert not Money(Decimal("-0.00")).amount.is_signed()

    @pytest.mark.parametrize(
        "currency", ["cny", "RMB1", "CN", "", "人民币", 156, None, "RMB", "Rmb"]
    )
    def test_bad_currency_is_refused(self, currency: object) -> None:
        with pytest.raises(ValidationError) as info:
            Money(1, currency)  # type: ignore[arg-type]
        assert (info.value.field, info.value.rule) == ("currency", "money.currency")

    def test_rmb_is_refused_with_the_code_to_write(self) -> None:
        with pytest.raises(ValidationError, match=r"renminbi is CNY"):
            Money(1, "RMB")

    @pytest.mark.parametrize("currency", ["CNY", "USD", "HKD", "EUR", "JPY", "MOP", "HRK"])
    def test_codes_of_iso_4217_are_accepted_withdrawn_ones_too(self, currency: str) -> None:
        assert Money(1, currency).currency == currency  # HRK: an old policy's, before 2023

    @given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=3, max_size=3))
    def test_three_capital_letters_are_a_code_except_rmb(self, code: str) -> None:
        if code != "RMB":
            assert Money(1, code).currency == code
        else:
            with pytest.raises(ValidationError) as info:
                Money(1, code)
            assert (info.value.field, info.value.rule) == ("currency", "money.currency")

    @given(st.integers(min_value=1, max_value=10**17))
    def test_negative_amounts_are_always_refused(self, cents: int) -> None:
        with pytest.raises(ValidationError) as info:
            Money(Decimal(-cents).scaleb(-2))
        assert info.value.rule == "money.negative"

    @given(st.integers(min_value=0, max_value=10**15), st.integers(min_value=1, max_value=9))
    def test_a_third_decimal_place_is_always_refused(self, mills: int, last: int) -> None:
        raw = Decimal(mills * 10 + last).scaleb(-3)
        with pytest.raises(ValidationError) as info:
            Money(raw)
        assert info.value.rule == "money.places"

    @given(gen.money(), gen.money())
    def test_addition_is_exact_and_commutative(self, a: Money, b: Money) -> None:
        assert (a + b).amount == a.amount + b.amount
        assert a + b == b + a
        assert (a + b).amount == (a + b).amount.quantize(CENT)

    @given(gen.money(min_value="1.50", max_value="2.25", currency="HKD"))
    def test_money_strategy_respects_bounds(self, amount: Money) -> None:
        assert Decimal("1.50") <= amount.amount <= Decimal("2.25")
        assert amount.currency == "HKD"
        assert amount.amount == amount.amount.quantize(CENT)

    def test_mixing_currencies_is_refused(self) -> None:
        with pytest.raises(ValidationError) as info:
            Money(1) + Money(1, "USD")
        assert (info.value.field, info.value.rule) == ("currency", "money.mixed")
        with pytest.raises(ValidationError):
            _ = Money(1) < Money(2, "USD")
        with pytest.raises(ValidationError):
            _ = Money(1) <= Money(2, "USD")

    def test_comparison_and_zero(self) -> None:
        assert Money.zero() == Money("0.00")
        assert Money.zero("USD").currency == "USD"
        assert Money(1) < Money(2)
        assert Money(2) <= Money(2)
        assert not Money(3) <= Money(2)

    def test_equal_amounts_are_equal_whatever_their_spelling(self) -> None:
        assert Money("1.1") == Money(Decimal("1.10")) == Money("1.10")

    def test_str(self) -> None:
        assert str(Money("1234567.5")) == "CNY 1,234,567.50"


_MIXED = st.lists(gen.money(0, 100_000) | gen.money(0, 100_000, "USD"), max_size=8)


class TestTotalIn:
    def test_the_example(self) -> None:
        """¥1.50 + US$2.00 + ¥3.00 is ¥4.50: no exchange rates, so the dollars are left out."""
        assert total_in([Money("1.50"), Money("2", "USD"), Money(3)]) == Decimal("4.50")
        assert total_in([Money("2", "USD")], "USD") == Decimal("2.00")

    @given(_MIXED)
    def test_it_is_the_sum_of_the_amounts_in_the_currency_to_the_cent(
        self, amounts: list[Money]
    ) -> None:
        total = total_in(amounts)
        assert total == sum(m.amount for m in amounts if m.currency == "CNY")
        assert total.as_tuple().exponent == -2  # two places, even when empty
        assert total_in(amounts) + total_in(amounts, "USD") == sum(m.amount for m in amounts)

    @given(_MIXED, gen.money(0, 100_000) | gen.money(0, 100_000, "USD"))
    def test_one_more_amount_never_lowers_it_and_another_currency_never_moves_it(
        self, amounts: list[Money], more: Money
    ) -> None:
        after = total_in([*amounts, more])
        assert after >= total_in(amounts)
        if more.currency != "CNY":
            assert after == total_in(amounts)


class TestGender:
    def test_labels(self) -> None:
        assert Gender.MALE.label_zh == "男"
        assert Gender.FEMALE.label_zh == "女"
        assert Gender("FEMALE") is Gender.FEMALE  # type: ignore[call-arg]
        assert repr(Gender.MALE) == "Gender.MALE"


def test_compose_computes_the_check_digit() -> None:
    rid = ResidentId.compose("110105", dt.date(1949, 12, 31), 2)
    assert rid == ResidentId("11010519491231002X")
    assert (rid.birth_date, rid.gender) == (dt.date(1949, 12, 31), Gender.FEMALE)
