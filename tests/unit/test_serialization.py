"""Plain-data forms (serialization): exact round trips and bad data reported with its full path."""

from __future__ import annotations

import copy
import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.card import FamilyMember, Holding, LifeSituation
from insurcrm.domain.customers import Customer, Household, LeadSource
from insurcrm.domain.policies import Beneficiary, EndReason, Policy, ProductLine
from insurcrm.domain.values import Email, Gender, Money, PersonName, Phone, ResidentId
from insurcrm.errors import ValidationError
from insurcrm.serialization import make_converter, structure, unstructure
from insurcrm.testing import strategies as gen
from tests.unit.test_privacy import assert_no_echo

DAY = dt.date(2024, 3, 1)
RID = ResidentId("11010519491231002X")


def sample_customer() -> Customer:
    return Customer.register(
        "C1",
        "欧阳娜娜",
        DAY,
        gender=Gender.FEMALE,
        id_number=RID,
        mobile=Phone.parse("13812345678"),
        email=Email("ouyang@example.com"),
        home_address="北京市朝阳区'; DROP TABLE customers; --",
        life=LifeSituation(hobbies="🐼 熊猫"),
        family=[
            FamilyMember("父亲", PersonName("欧阳震华"), dt.date(1950, 5, 1)),
            FamilyMember("女儿", birth_date=dt.date(2000, 1, 1), occupation="学生"),
        ],
        holdings=[Holding("平安人寿", ProductLine.LIFE, dt.date(2010, 1, 1), 20, Money("500000"))],
        lead_source=LeadSource.ONLINE,
    )


def sample_policy() -> Policy:
    policy = Policy(
        id="P1",
        number="N-1",
        policyholder_id="C1",
        insured_id="C2",
        product_line=ProductLine.CRITICAL_ILLNESS,
        start_date=DAY,
        term_years=20,
        sum_assured=Money("500000"),
        annual_premium=Money("1234.56"),
        beneficiaries=[
            Beneficiary(Decimal("33.33"), customer_id="C2", relation="配偶"),
            Beneficiary(Decimal("66.67"), name=PersonName("张小"), relation="女儿"),
        ],
        campaign="2024开门红",
    )
    return (
        policy.activate(DAY)
        .renew(dt.date(2025, 3, 1))
        .record_missed_premium(dt.date(2026, 3, 1))
        .lapse(dt.date(2026, 5, 1))
        .reinstate(dt.date(2026, 6, 1))
        .cancel(dt.date(2027, 1, 1), EndReason.FRAUD)
    )


def refused(data: Any, kind: type[Any]) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        structure(data, kind)
    return info.value


def changed(data: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    result = copy.deepcopy(data)
    edit(result)
    return result


# -- plain data -----------------------------------------------------------------------------------


class TestPlainData:
    def test_customer_plain_form(self) -> None:
        data = unstructure(sample_customer())
        assert data["id"] == "C1"
        assert data["created_on"] == "2024-03-01"
        assert data["profile"]["name"] == "欧阳娜娜"
        assert data["profile"]["gender"] == "FEMALE"
        assert data["profile"]["id_number"] == RID.value
        assert data["profile"]["mobile"] == "+8613812345678"
        assert data["profile"]["email"] == "ouyang@example.com"
        assert data["family"][0]["birth_date"] == "1950-05-01"
        assert data["holdings"][0]["sum_assured"] == {"amount": "500000.00", "currency": "CNY"}
        assert data["lead_source"] == "ONLINE"
        assert data["version"] == 0

    def test_policy_plain_form(self) -> None:
        data = unstructure(sample_policy())
        assert data["annual_premium"] == {"amount": "1234.56", "currency": "CNY"}
        assert data["beneficiaries"][0]["share"] == "33.33"
        assert data["status"] == "CANCELLED"
        assert data["history"][-1] == {
            "on": "2027-01-01",
            "from_status": "IN_FORCE",
            "to_status": "CANCELLED",
            "reason": "FRAUD",
        }
        assert data["purchases"][1]["kind"] == "RENEWAL"
        assert data["missed_premiums"][0]["due_date"] == "2026-03-01"

    def test_plain_form_is_json(self) -> None:
        for obj in (sample_customer(), sample_policy()):
            data = unstructure(obj)
            assert json.loads(json.dumps(data, ensure_ascii=False)) == data

    def test_values_alone(self) -> None:
        assert unstructure(Money("1.5", "USD")) == {"amount": "1.50", "currency": "USD"}
        assert structure({"amount": "1.50", "currency": "USD"}, Money) == Money("1.5", "USD")
        assert structure({"amount": "2"}, Money) == Money(2)
        assert structure("+8613812345678", Phone) == Phone.parse("13812345678")
        assert structure("11010519491231002x", ResidentId) == RID
        assert structure(" 李 ", PersonName).value == " 李 "
        assert structure("2024-03-01", dt.date) == DAY
        assert structure(DAY, dt.date) == DAY

    def test_make_converter_gives_independent_converters(self) -> None:
        converter = make_converter()
        customer = sample_customer()
        assert converter.structure(converter.unstructure(customer), Customer) == customer


# -- round trips ----------------------------------------------------------------------------------


class TestRoundTrip:
    def test_examples(self) -> None:
        for obj in (sample_customer(), sample_policy(), Household("H1", "张家")):
            assert structure(unstructure(obj), type(obj)) == obj

    @given(gen.customers())
    def test_any_customer(self, customer: Customer) -> None:
        assert structure(unstructure(customer), Customer) == customer

    @given(gen.customers())
    def test_any_customer_through_json(self, customer: Customer) -> None:
        text = json.dumps(unstructure(customer), ensure_ascii=False)
        back = structure(json.loads(text), Customer)
        assert back == customer
        assert back.profile is not None
        assert customer.profile is not None
        assert back.profile.name.value.encode() == customer.profile.name.value.encode()

    @given(gen.customers(referred_by="C-0", household_id="H-0"))
    def test_any_customer_with_referrer_and_household(self, customer: Customer) -> None:
        assert structure(unstructure(customer), Customer) == customer

    @given(gen.customers(), st.integers(min_value=0, max_value=3_000))
    def test_any_erased_customer(self, customer: Customer, later: int) -> None:
        erased = customer.erase(customer.created_on + dt.timedelta(days=later))
        assert structure(unstructure(erased), Customer) == erased

    @given(st.data())
    def test_any_policy(self, data: st.DataObject) -> None:
        holder = data.draw(gen.customer_ids())
        insured = data.draw(gen.customer_ids())
        policy = data.draw(gen.policies(holder, insured))
        assert structure(unstructure(policy), Policy) == policy
        anonymous = policy.forget_beneficiary(holder)
        assert structure(unstructure(anonymous), Policy) == anonymous

    @given(gen.policies("C1", "C2"))
    def test_any_policy_through_json(self, policy: Policy) -> None:
        text = json.dumps(unstructure(policy))
        assert structure(json.loads(text), Policy) == policy

    @given(gen.households())
    def test_any_household(self, household: Household) -> None:
        assert structure(unstructure(household), Household) == household

    @given(gen.money(), gen.phones(), gen.emails(), gen.resident_ids())
    def test_any_value(self, money: Money, phone: Phone, email: Email, rid: ResidentId) -> None:
        for value in (money, phone, email, rid):
            assert structure(unstructure(value), type(value)) == value


# -- bad data -------------------------------------------------------------------------------------

CUSTOMER = unstructure(sample_customer())
POLICY = unstructure(sample_policy())


def _set(*path: str | int, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        target[path[-1]] = value

    return edit


def _delete(*path: str | int) -> Callable[[dict[str, Any]], None]:
    def edit(data: dict[str, Any]) -> None:
        target: Any = data
        for step in path[:-1]:
            target = target[step]
        del target[path[-1]]

    return edit


class TestBadCustomerData:
    @pytest.mark.parametrize(
        ("edit", "path", "rule"),
        [
            (_set("profile", "mobile", value="12345"), "profile.mobile", "phone.format"),
            (_set("profile", "mobile", value="+86 138 1234 5678"), "profile.mobile", None),
            (_set("profile", "work_phone", value=13812345678), "profile.work_phone", None),
            (
                _set("profile", "id_number", value="110105194912310021"),
                "profile.id_number",
                "id_number.checksum",
            ),
            (_set("profile", "email", value="ouyang"), "profile.email", "email.invalid"),
            (_set("profile", "gender", value="女"), "profile.gender", "enum.value"),
            (_set("profile", "name", value="  "), "profile.name", "text.required"),
            (_set("profile", "home_address", value="a\x00b"), "profile.home_address", None),
            (
                _set("profile", "birth_date", value="1950-01-01"),
                "profile.id_number",
                "id_number.birth_date_mismatch",
            ),
            (_set("family", 0, "birth_date", value="1950-13-01"), "family[0].birth_date", None),
            (_set("family", 1, "birth_date", value=19500101), "family[1].birth_date", None),
            (_set("family", 1, "relation", value=""), "family[1].relation", "text.required"),
            (_set("family", 0, "name", value=""), "family[0].name", "text.required"),
            (_delete("family", 0, "relation"), "family[0].relation", "field.required"),
            (_set("holdings", 0, "term_years", value=0), "holdings[0].term_years", "term.range"),
            (_set("holdings", 0, "line", value="HEALTH"), "holdings[0].line", "enum.value"),
            (
                _set("holdings", 0, "sum_assured", value={"amount": "1.001"}),
                "holdings[0].sum_assured",
                "money.places",
            ),
            (
                _set("holdings", 0, "sum_assured", value={"amount": 1.5}),
                "holdings[0].sum_assured",
                "decimal.type",
            ),
            (
                _set("holdings", 0, "sum_assured", value={"amount": "-1"}),
                "holdings[0].sum_assured",
                "money.negative",
            ),
            (
                _set("holdings", 0, "sum_assured", value={"amount": "1", "currency": "rmb"}),
                "holdings[0].sum_assured",
                "money.currency",
            ),
            (_set("holdings", 0, "sum_assured", value="500000"), "holdings[0].sum_assured", None),
            (_set("life", "hobbies", value="\ud800"), "life.hobbies", "text.unstorable"),
            (_set("lead_source", value="TV"), "lead_source", "enum.value"),
            (_set("created_on", value="yesterday"), "created_on", "date.format"),
            (_set("id", value=""), "id", "id.format"),
            (_set("referred_by", value="C1"), "referred_by", "referral.self"),
            (_delete("created_on"), "created_on", "field.required"),
            (_set("nickname", value="娜娜"), "nickname", "field.unknown"),
            (_set("profile", value=None), "profile", "profile.required"),
        ],
    )
    def test_bad_values_are_refused_with_their_full_path(
        self, edit: Callable[[dict[str, Any]], None], path: str, rule: str | None
    ) -> None:
        error = refused(changed(CUSTOMER, edit), Customer)
        assert error.field == path
        if rule is not None:
            assert error.rule == rule
        assert_no_echo(error, ["12345", "110105194912310021", "ouyang", "娜娜", "a\x00b"])

    @pytest.mark.parametrize(
        ("edit", "path"),
        [
            (_set("profile", value=["欧阳娜娜"]), "profile"),
            (_set("family", value=[None]), "family[0]"),
            (_set("family", value=5), "family"),
            (_set("life", value=None), "life"),
        ],
    )
    def test_parts_of_the_wrong_shape_are_refused_at_their_path(
        self, edit: Callable[[dict[str, Any]], None], path: str
    ) -> None:
        assert refused(changed(CUSTOMER, edit), Customer).field == path

    @pytest.mark.parametrize("data", [None, 5])
    def test_no_data_is_refused(self, data: object) -> None:
        assert refused(data, Customer).rule

    @given(
        gen.customers(),
        st.sampled_from(["mobile", "work_phone", "home_phone", "work_fax"]),
        st.sampled_from(["12345", "1381234567", "+86 138 1234 5678", "138-1234-5678", "电话"]),
    )
    def test_any_bad_phone_is_reported_at_its_field(
        self, customer: Customer, field: str, raw: str
    ) -> None:
        data = unstructure(customer)
        data["profile"][field] = raw
        error = refused(data, Customer)
        assert error.field == f"profile.{field}"
        assert error.rule.startswith("phone.")
        assert_no_echo(error, [raw])

    @given(
        gen.customers(),
        st.data(),
        st.sampled_from(["2024-02-30", "01/02/1990", "", "1990-1-1x", "明天"]),
    )
    def test_any_bad_family_date_is_reported_with_its_index(
        self, customer: Customer, data: st.DataObject, raw: str
    ) -> None:
        plain = unstructure(customer)
        if not plain["family"]:
            plain["family"] = [{"relation": "父亲", "name": None, "birth_date": None}]
            plain["family"][0]["occupation"] = None
        index = data.draw(st.integers(min_value=0, max_value=len(plain["family"]) - 1))
        plain["family"][index]["birth_date"] = raw
        error = refused(plain, Customer)
        assert error.field == f"family[{index}].birth_date"
        assert error.rule == "date.format"


class TestBadPolicyData:
    @pytest.mark.parametrize(
        ("edit", "path", "rule"),
        [
            (_set("beneficiaries", 1, "share", value="abc"), "beneficiaries[1].share", None),
            (_set("beneficiaries", 1, "share", value="70"), "beneficiaries", "beneficiary.shares"),
            (_set("beneficiaries", 0, "share", value="0"), "beneficiaries[0].share", None),
            (
                _set("beneficiaries", 0, "customer_id", value=None),
                "beneficiaries[0].customer_id",
                "beneficiary.who",
            ),
            (_set("history", 0, "to_status", value="ACTIVE"), "history[0].to_status", None),
            (_set("history", 2, "on", value="2026-02-30"), "history[2].on", "date.format"),
            (_set("purchases", 0, "amount", value={"amount": "x"}), "purchases[0].amount", None),
            (
                _set("missed_premiums", 0, "due_date", value=None),
                "missed_premiums[0].due_date",
                None,
            ),
            (_set("status", value="IN_FORCE"), "status", "status.history"),
            (_set("term_years", value=0), "term_years", "term.range"),
            (_set("product_line", value="寿险"), "product_line", "enum.value"),
            (
                _set("annual_premium", value={"amount": "1", "currency": "USD"}),
                "annual_premium",
                "money.mixed",
            ),
            (_set("policyholder_id", value=""), "policyholder_id", "id.format"),
            (_delete("number"), "number", "field.required"),
        ],
    )
    def test_bad_values_are_refused_with_their_full_path(
        self, edit: Callable[[dict[str, Any]], None], path: str, rule: str | None
    ) -> None:
        error = refused(changed(POLICY, edit), Policy)
        assert error.field == path
        if rule is not None:
            assert error.rule == rule


def test_data_of_the_wrong_shape_is_a_validation_error() -> None:
    with pytest.raises(ValidationError):
        structure(["C1"], Customer)
