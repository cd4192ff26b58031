"""Masking of personal information and error hygiene (DOMAIN.md §10.4)."""

from __future__ import annotations

import ast
import datetime as dt
import functools
import pickle
from collections.abc import Iterable
from pathlib import Path

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import insurcrm
from insurcrm.domain.customers import Customer
from insurcrm.domain.policies import Policy
from insurcrm.domain.privacy import mask_email, mask_id_number, mask_name, mask_phone, mask_text
from insurcrm.domain.values import Email, Money, PersonName, Phone, ResidentId
from insurcrm.errors import (
    ConcurrencyError,
    Duplicate,
    InsurCRMError,
    NotFound,
    RuleViolation,
    SchemaError,
    StorageError,
    ValidationError,
)
from insurcrm.testing import strategies as gen


@functools.cache
def _code_words() -> tuple[str, ...]:
    """Every identifier and string literal of the insurcrm code (docstrings, testing excluded).

    Hypothesis feeds string literals it finds in local code back as input, so
    a generated "name" may be ``id_number`` or ``must not be empty``: seeing
    such text in a message is the message's own wording, not an echo.
    """
    words: set[str] = {"True", "False", "None", "datetime.date(", "Decimal("}  # in any repr
    root = Path(insurcrm.__file__).parent
    for path in root.rglob("*.py"):
        if "testing" in path.relative_to(root).parts:
            continue  # the test helpers hold sample personal data, not message wording
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Expr)}
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) not in docstrings:
                    words.add(node.value)
            elif isinstance(node, ast.Name):
                words.add(node.id)
            elif isinstance(node, ast.Attribute):
                words.add(node.attr)
            elif isinstance(node, ast.FunctionDef | ast.ClassDef):
                words.add(node.name)
            elif isinstance(node, ast.arg):
                words.add(node.arg)
    return tuple(words)


def echoes(value: str, text: str) -> bool:
    """True when ``text`` (an error message, a repr) repeats the personal ``value``.

    Counted are trimmed values of 5 or more characters, or of 2 or more with a
    non-ASCII character (Chinese names), that are not part of the code's own
    wording (see :func:`_code_words`).
    """
    core = value.strip()
    if not (len(core) >= 5 or (len(core) >= 2 and not core.isascii())) or core not in text:
        return False
    return not any(core in word for word in _code_words())


def assert_no_echo(error: ValidationError, values: Iterable[str]) -> None:
    """The error is ``field: message [rule]`` and its message repeats none of ``values``."""
    assert str(error) == f"{error.field}: {error.message} [{error.rule}]"
    for value in values:
        assert not echoes(value, error.message), "the error repeats a rejected value"


class TestEchoHelper:
    def test_echoes_detects_personal_values(self) -> None:
        assert echoes("欧阳娜娜", "name: 欧阳娜娜 is bad")
        assert echoes("13812345678", "mobile 13812345678")
        assert not echoes("欧阳娜娜", "name: 欧*** is bad")

    def test_echoes_ignores_the_codes_own_wording(self) -> None:
        assert not echoes("must not be empty", "name: must not be empty [text.required]")
        assert not echoes("id_number", "profile.id_number: bad")
        assert not echoes("张", "张")
        assert not echoes("00", "datetime.date(2000, 1, 1)")


class TestMaskFunctions:
    @pytest.mark.parametrize(
        ("name", "masked"),
        [
            ("张三丰", "张**"),
            ("欧阳娜娜", "欧***"),
            ("张三", "张*"),
            ("  李四  ", "李*"),
            ("O'Brien", "O******"),
            ("", "*"),
            ("   ", "*"),
        ],
    )
    def test_mask_name(self, name: str, masked: str) -> None:
        assert mask_name(name) == masked

    @pytest.mark.parametrize("name", ["张", "X", "🐼"])
    def test_a_one_character_name_is_hidden_too(self, name: str) -> None:
        assert name not in mask_name(name)
        assert name not in repr(PersonName(name))

    def test_mask_id_number(self) -> None:
        assert mask_id_number("11010119900307123X") == "110101********123X"
        assert mask_id_number("123456789") == "*********"

    @pytest.mark.parametrize(
        ("e164", "code", "masked"),
        [
            ("+8613812345678", 86, "+86 138****5678"),
            ("+442079460958", 44, "+44 207***0958"),
            ("+8613812345678", None, "+86*******5678"),
            ("+6561234", 65, "+65 6**34"),
        ],
    )
    def test_mask_phone(self, e164: str, code: int | None, masked: str) -> None:
        assert mask_phone(e164, code) == masked

    def test_mask_email(self) -> None:
        assert mask_email("zhangsan@example.com") == "z***@example.com"
        assert mask_email("nobody") == "***"

    def test_mask_text(self) -> None:
        assert mask_text("北京市朝阳区") == "'***'"
        assert mask_text(None) == "None"


class TestMaskingProperties:
    @given(gen.person_names())
    def test_names_never_show(self, name: str) -> None:
        assume("*" not in name)
        person = PersonName(name)
        assert repr(person) == f"PersonName({str(person)!r})"
        assert name.strip() not in str(person)
        assert str(person) == mask_name(name)

    @given(gen.resident_ids())
    def test_id_numbers_never_show(self, rid: ResidentId) -> None:
        for text in (repr(rid), str(rid)):
            assert rid.value not in text
            assert rid.value[6:14] not in text  # the birth date
        assert str(rid) == rid.value[:6] + "*" * 8 + rid.value[-4:]

    @given(gen.phones())
    def test_phones_never_show(self, phone: Phone) -> None:
        national = phone.e164.removeprefix(f"+{phone.country_code}")
        for text in (repr(phone), str(phone)):
            assert phone.e164 not in text
            assert national not in text
            assert "*" in text

    @given(gen.emails())
    def test_emails_never_show(self, email: Email) -> None:
        local = email.value.rpartition("@")[0]
        assume("*" not in local)
        for text in (repr(email), str(email)):
            assert email.value not in text
            if len(local) > 1:
                assert local not in text

    @given(gen.policies("C1", "C2"))
    def test_policy_repr_hides_beneficiaries(self, policy: Policy) -> None:
        shown = repr(policy)
        visible = [policy.insurer or "", policy.campaign or "", policy.id, policy.number]
        for beneficiary in policy.beneficiaries:
            secrets = [beneficiary.relation or ""]
            if beneficiary.name is not None:
                secrets.append(beneficiary.name.value)
            for secret in secrets:
                if "*" in secret or any(secret.strip() in text for text in visible):
                    continue
                assert not echoes(secret, shown)


class TestErrorsNeverEchoInput:
    @given(gen.cn_mobile_numbers(), st.sampled_from(["0", "99", "123"]))
    def test_rejected_phone_digits_are_not_in_the_error(self, typed: str, extra: str) -> None:
        bad = typed + extra
        with pytest.raises(ValidationError) as info:
            Phone.parse(bad)
        assert bad not in str(info.value)
        assert "".join(ch for ch in typed if ch.isdigit())[-8:] not in str(info.value)

    @given(gen.resident_ids(), st.data())
    def test_rejected_registration_does_not_echo_the_card(
        self, rid: ResidentId, data: st.DataObject
    ) -> None:
        name = data.draw(gen.chinese_names())
        wrong_birth = rid.birth_date + dt.timedelta(days=1)
        with pytest.raises(ValidationError) as info:
            Customer.register(
                "C1", name, dt.date(2024, 3, 1), id_number=rid, birth_date=wrong_birth
            )
        assert_no_echo(info.value, [rid.value, rid.value[:14], name, wrong_birth.isoformat()])
        assert info.value.field == "profile.id_number"

    @given(st.text(alphabet="元角分人民币整壹贰叁肆伍 ", min_size=3, max_size=20))
    def test_rejected_money_text_is_not_in_the_error(self, raw: str) -> None:
        with pytest.raises(ValidationError) as info:
            Money(raw)
        assert info.value.field == "amount"
        assert raw not in str(info.value)


class TestErrorTypes:
    def test_validation_error_names_field_and_rule(self) -> None:
        error = ValidationError("mobile", "phone.invalid", "not a valid phone number")
        assert str(error) == "mobile: not a valid phone number [phone.invalid]"
        assert isinstance(error, ValueError)
        assert isinstance(error, InsurCRMError)

    def test_at_prefixes_the_path(self) -> None:
        error = ValidationError("mobile", "phone.invalid", "bad")
        assert error.at("profile").field == "profile.mobile"
        assert ValidationError("[0].birth_date", "r", "m").at("family").field == (
            "family[0].birth_date"
        )
        assert ValidationError("", "r", "m").at("profile.mobile").field == "profile.mobile"
        assert error.at("profile").rule == "phone.invalid"

    @pytest.mark.parametrize(
        "error",
        [
            ValidationError("profile.mobile", "phone.invalid", "bad"),
            NotFound("customer", "C1"),
            Duplicate("policy", "N-1"),
        ],
    )
    def test_errors_survive_pickling(self, error: InsurCRMError) -> None:
        back = pickle.loads(pickle.dumps(error))
        assert type(back) is type(error)
        assert str(back) == str(error)
        assert vars(back) == vars(error)

    def test_hierarchy(self) -> None:
        assert issubclass(SchemaError, StorageError)
        assert issubclass(NotFound, LookupError)
        for kind in (ConcurrencyError, RuleViolation, StorageError, Duplicate):
            assert issubclass(kind, InsurCRMError)
        assert str(NotFound("customer", "C1")) == "customer 'C1' not found"
