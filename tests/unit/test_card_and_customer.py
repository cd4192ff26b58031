"""The customer card and the customer aggregate (DOMAIN.md §1.1, §1.2, §10.4)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.cn import ric

from insurcrm.domain.card import (
    BasicProfile,
    Education,
    FamilyMember,
    Holding,
    LifeSituation,
    MaritalStatus,
    check_card_dates,
)
from insurcrm.domain.customers import (
    Customer,
    Household,
    LeadSource,
    PdpPersonality,
    RiskPreference,
)
from insurcrm.domain.policies import ProductLine
from insurcrm.domain.values import Email, Gender, Money, PersonName, Phone, ResidentId
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.testing import strategies as gen
from tests.unit.test_privacy import assert_no_echo, echoes

DAY = dt.date(2024, 3, 1)
LATER = DAY + dt.timedelta(days=1)
RID = ResidentId("11010519491231002X")  # female, born 1949-12-31


def raised(call: Any, *args: Any, **kwargs: Any) -> ValidationError:
    """The ValidationError ``call(*args, **kwargs)`` raises."""
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value


def personal_strings(value: object) -> list[str]:
    """Every text inside ``value`` (kwargs, lists, value objects), for leak checks."""
    found: list[str] = []
    if isinstance(value, str):
        found.append(value)
    elif isinstance(value, dt.date):
        found.append(value.isoformat())
    elif isinstance(value, dict):
        for item in value.values():
            found.extend(personal_strings(item))
    elif isinstance(value, list | tuple):
        for item in value:
            found.extend(personal_strings(item))
    elif attrs.has(type(value)):
        kind: Any = type(value)
        for field in attrs.fields(kind):
            found.extend(personal_strings(getattr(value, field.name)))
    return found


# -- registration ---------------------------------------------------------------------------------


class TestRegister:
    def test_only_the_name_is_required(self) -> None:
        customer = Customer.register("C1", "张伟", DAY)
        assert customer.profile is not None
        assert customer.profile.name == PersonName("张伟")
        assert customer.created_on == DAY
        assert customer.version == 0
        assert customer.family == ()
        assert customer.holdings == ()
        assert customer.life.is_empty()
        assert not customer.is_erased

    def test_full_card(self) -> None:
        customer = Customer.register(
            "C1",
            PersonName("张三"),
            DAY,
            gender=Gender.FEMALE,
            birth_date=dt.date(1949, 12, 31),
            id_number=RID,
            mobile=Phone.parse("13812345678"),
            email=Email("zhang@example.com"),
            marital_status=MaritalStatus.MARRIED,
            education=Education.BACHELOR,
            home_address="北京市朝阳区建国路 1 号",
            life=LifeSituation(hobbies="钓鱼"),
            family=[FamilyMember("儿子", PersonName("张小"), dt.date(1980, 1, 1))],
            holdings=[Holding("平安人寿", ProductLine.LIFE, dt.date(2010, 1, 1), 20)],
            lead_source=LeadSource.CUSTOMER_REFERRAL,
            referred_by="C0",
            is_internal=True,
            csr_id="CSR-1",
            agent_id="AG-1",
            household_id="H1",
            pdp=PdpPersonality.PRECISE,
            risk_preference=RiskPreference.RISK_AVERSE,
        )
        assert customer.profile is not None
        assert customer.profile.id_number == RID
        assert customer.profile.effective_birth_date == dt.date(1949, 12, 31)
        assert isinstance(customer.family, tuple)
        assert customer.family[0].relation == "儿子"
        assert customer.holdings[0].term_years == 20
        assert customer.referred_by == "C0"

    @given(gen.customers())
    def test_generated_customers_are_new_and_dated_consistently(self, customer: Customer) -> None:
        assert customer.version == 0
        assert customer.referred_by is None
        assert customer.household_id is None
        assert customer.profile is not None
        assert not customer.is_erased
        day = customer.created_on
        check_card_dates(customer.profile, customer.family, customer.holdings, day)
        born = customer.profile.effective_birth_date
        assert born is None or born <= day
        assert all(m.birth_date is None or m.birth_date <= day for m in customer.family)
        assert all(h.start_date is None or h.start_date <= day for h in customer.holdings)

    @given(st.data())
    def test_strategy_parameters_are_honoured(self, data: st.DataObject) -> None:
        customer = data.draw(gen.customers(id="C-9", on=DAY, referred_by="C-1", household_id="H"))
        assert (customer.id, customer.created_on) == ("C-9", DAY)
        assert (customer.referred_by, customer.household_id) == ("C-1", "H")
        referred = data.draw(gen.customers(referred_by="C-1"))
        assert referred.id != "C-1"

    @given(gen.invalid_card_fields())
    def test_invalid_input_is_refused_naming_the_field(
        self, case: tuple[str, dict[str, Any]]
    ) -> None:
        path, kwargs = case
        error = raised(Customer.register, **kwargs)
        assert error.field == path
        assert error.rule
        assert_no_echo(error, personal_strings({k: v for k, v in kwargs.items() if k != "id"}))

    def test_register_name_error_names_profile_name(self) -> None:
        error = raised(Customer.register, "C1", "   ", DAY)
        assert (error.field, error.rule) == ("profile.name", "text.required")


# -- resident ID against the profile --------------------------------------------------------------


class TestIdAgreement:
    def test_id_matching_birth_date_and_gender_is_accepted(self) -> None:
        profile = BasicProfile(
            PersonName("张三"), Gender.FEMALE, dt.date(1949, 12, 31), id_number=RID
        )
        assert profile.id_number == RID

    def test_id_disagreeing_with_birth_date_is_refused(self) -> None:
        error = raised(
            Customer.register, "C1", "张三", DAY, id_number=RID, birth_date=dt.date(1950, 1, 1)
        )
        assert (error.field, error.rule) == ("profile.id_number", "id_number.birth_date_mismatch")
        assert RID.value not in str(error)
        assert "1950" not in str(error)

    def test_id_disagreeing_with_gender_is_refused(self) -> None:
        error = raised(Customer.register, "C1", "张三", DAY, id_number=RID, gender=Gender.MALE)
        assert (error.field, error.rule) == ("profile.id_number", "id_number.gender_mismatch")

    @given(gen.resident_ids(), st.data())
    def test_birth_date_and_gender_must_agree_with_any_id(
        self, rid: ResidentId, data: st.DataObject
    ) -> None:
        born = data.draw(st.dates(max_value=DAY))
        gender = data.draw(st.sampled_from(Gender))
        agrees = born == rid.birth_date and gender is rid.gender
        if agrees:
            Customer.register("C1", "张三", DAY, id_number=rid, birth_date=born, gender=gender)
        else:
            error = raised(
                Customer.register, "C1", "张三", DAY, id_number=rid, birth_date=born, gender=gender
            )
            assert error.field == "profile.id_number"
            assert error.rule in {"id_number.birth_date_mismatch", "id_number.gender_mismatch"}
            assert rid.value not in str(error)

    def test_effective_birth_date_comes_from_the_id(self) -> None:
        assert BasicProfile(PersonName("张"), id_number=RID).effective_birth_date == (
            dt.date(1949, 12, 31)
        )
        assert BasicProfile(PersonName("张")).effective_birth_date is None

    def test_raw_id_text_is_refused_at_its_path(self) -> None:
        raw = "110105194912310021"
        error = raised(Customer.register, "C1", "张三", DAY, id_number=raw)
        assert error.field == "profile.id_number"
        assert raw not in str(error)


# -- dates ----------------------------------------------------------------------------------------


class TestCardDates:
    def test_dates_on_the_record_day_are_accepted(self) -> None:
        customer = Customer.register(
            "C1",
            "张三",
            DAY,
            birth_date=DAY,
            family=[FamilyMember("女儿", birth_date=DAY)],
            holdings=[Holding("人寿", ProductLine.LIFE, start_date=DAY)],
        )
        assert customer.created_on == DAY

    @pytest.mark.parametrize(
        ("card", "path"),
        [
            ({"birth_date": LATER}, "profile.birth_date"),
            (
                {"family": [FamilyMember("父亲"), FamilyMember("女儿", birth_date=LATER)]},
                "family[1].birth_date",
            ),
            (
                {"holdings": [Holding("人寿", ProductLine.ACCIDENT, start_date=LATER)]},
                "holdings[0].start_date",
            ),
        ],
    )
    def test_future_dates_are_refused(self, card: dict[str, Any], path: str) -> None:
        error = raised(Customer.register, "C1", "张三", DAY, **card)
        assert (error.field, error.rule) == (path, "date.future")

    def test_id_encoding_a_future_birth_date_is_refused(self) -> None:
        body = "11010520240302001"
        rid = ResidentId(body + ric.calc_check_digit(body + "0"))
        error = raised(Customer.register, "C1", "张三", DAY, id_number=rid)
        assert (error.field, error.rule) == ("profile.id_number", "date.future")


# -- card parts -----------------------------------------------------------------------------------


class TestCardParts:
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("gender", "男"),
            ("birth_date", "1990-01-01"),
            ("marital_status", "MARRIED"),
            ("education", 3),
            ("mobile", "13812345678"),
            ("email", "zhang@example.com"),
            ("work_phone", 13812345678),
            ("id_number", "11010519491231002X"),
        ],
    )
    def test_fields_of_the_wrong_type_are_refused(self, field: str, value: object) -> None:
        error = raised(BasicProfile, PersonName("张三"), **{field: value})
        assert (error.field, error.rule) == (field, "type")
        assert str(value) not in str(error)

    def test_name_must_be_a_person_name(self) -> None:
        with pytest.raises((ValidationError, TypeError)):
            BasicProfile("张三")  # type: ignore[arg-type]

    @pytest.mark.parametrize("field", ["native_place", "employer", "home_address", "position"])
    def test_unstorable_free_text_is_refused(self, field: str) -> None:
        error = raised(BasicProfile, PersonName("张三"), **{field: "朝阳区\x00建国路"})
        assert (error.field, error.rule) == (field, "text.unstorable")
        assert "建国路" not in str(error)

    def test_free_text_may_be_empty_and_any_unicode(self) -> None:
        profile = BasicProfile(PersonName("张三"), home_address="", employer="'; DROP TABLE x; --")
        assert profile.home_address == ""
        assert profile.employer == "'; DROP TABLE x; --"

    def test_family_relation_is_required(self) -> None:
        for relation in ("", "  "):
            error = raised(FamilyMember, relation)
            assert (error.field, error.rule) == ("relation", "text.required")
        error = raised(FamilyMember, "父亲", name="张三")
        assert (error.field, error.rule) == ("name", "type")

    @given(gen.family_members(on=DAY))
    def test_generated_family_members_are_valid(self, member: FamilyMember) -> None:
        assert member.relation.strip()
        assert member.birth_date is None or member.birth_date <= DAY

    def test_holding_rules(self) -> None:
        assert raised(Holding, " ", ProductLine.LIFE).field == "insurer"
        for term in (0, -1, True, 1.5, "3"):
            error = raised(Holding, "人寿", ProductLine.LIFE, term_years=term)
            assert (error.field, error.rule) == ("term_years", "term.range")
        error = raised(Holding, "人寿", ProductLine.LIFE, annual_premium="100")
        assert (error.field, error.rule) == ("annual_premium", "type")
        with pytest.raises((ValidationError, TypeError)):
            Holding("人寿", "LIFE")  # type: ignore[arg-type]
        holding = Holding("人寿", ProductLine.LIFE, term_years=1, annual_premium=Money("0"))
        assert holding.annual_premium == Money(0)

    @given(gen.holdings(on=DAY))
    def test_generated_holdings_are_valid(self, holding: Holding) -> None:
        assert holding.insurer.strip()
        assert holding.start_date is None or holding.start_date <= DAY
        assert holding.term_years is None or holding.term_years >= 1

    def test_life_situation_emptiness(self) -> None:
        assert LifeSituation().is_empty()
        assert not LifeSituation(health="良好").is_empty()
        assert not LifeSituation(health="").is_empty()

    @given(gen.life_situations())
    def test_life_situation_repr_hides_every_note(self, life: LifeSituation) -> None:
        shown = repr(life)
        for field in attrs.fields(LifeSituation):
            note = getattr(life, field.name)
            if note is not None and "*" not in note:
                assert not echoes(note, shown)


# -- customer rules -------------------------------------------------------------------------------


class TestCustomerRules:
    def test_customer_cannot_refer_themself(self) -> None:
        error = raised(Customer.register, "C1", "张三", DAY, referred_by="C1")
        assert (error.field, error.rule) == ("referred_by", "referral.self")

    @pytest.mark.parametrize("bad", ["", "  ", "x" * 65, "a\nb", "a\x00b", 7])
    def test_ids_must_be_short_printable_text(self, bad: object) -> None:
        error = raised(Customer.register, bad, "张三", DAY)
        assert (error.field, error.rule) == ("id", "id.format")
        for field in ("csr_id", "agent_id", "household_id", "referred_by"):
            error = raised(Customer.register, "C1", "张三", DAY, **{field: bad})
            assert (error.field, error.rule) == (field, "id.format")

    def test_a_customer_needs_a_profile_unless_erased(self) -> None:
        error = raised(Customer, id="C1", created_on=DAY)
        assert (error.field, error.rule) == ("profile", "profile.required")

    def test_enum_fields_are_type_checked(self) -> None:
        error = raised(Customer.register, "C1", "张三", DAY, lead_source="ONLINE")
        assert (error.field, error.rule) == ("lead_source", "type")
        error = raised(Customer.register, "C1", "张三", DAY, pdp="tiger")
        assert (error.field, error.rule) == ("pdp", "type")

    def test_family_and_holdings_items_are_type_checked(self) -> None:
        error = raised(Customer.register, "C1", "张三", DAY, family=[FamilyMember("父亲"), "母亲"])
        assert (error.field, error.rule) == ("family[1]", "type")
        error = raised(Customer.register, "C1", "张三", DAY, holdings=[{"insurer": "x"}])
        assert (error.field, error.rule) == ("holdings[0]", "type")

    def test_updated_applies_changes_and_checks_changed_dates(self) -> None:
        customer = Customer.register("C1", "张三", DAY)
        changed = customer.updated(DAY, is_internal=True, csr_id="CSR-1")
        assert changed.is_internal
        assert changed.csr_id == "CSR-1"
        assert not customer.is_internal
        error = raised(customer.updated, DAY, family=[FamilyMember("儿子", birth_date=LATER)])
        assert (error.field, error.rule) == ("family[0].birth_date", "date.future")
        assert customer.updated(LATER, family=[FamilyMember("儿子", birth_date=LATER)]).family

    def test_updated_refuses_id_and_version_changes(self) -> None:
        customer = Customer.register("C1", "张三", DAY)
        with pytest.raises(RuleViolation):
            customer.updated(DAY, id="C2")
        with pytest.raises(RuleViolation):
            customer.updated(DAY, version=3)

    @given(gen.customers())
    def test_erase_keeps_an_anonymous_stub(self, customer: Customer) -> None:
        day = customer.created_on + dt.timedelta(days=30)
        erased = customer.erase(day)
        assert erased.is_erased
        assert erased.erased_on == day
        assert erased.id == customer.id
        assert erased.profile is None
        assert erased.family == ()
        assert erased.life.is_empty()
        assert [h.insurer for h in erased.holdings] == ["erased"] * len(customer.holdings)
        assert [h.annual_premium for h in erased.holdings] == [
            h.annual_premium for h in customer.holdings
        ]
        assert (erased.lead_source, erased.pdp, erased.is_internal) == (
            customer.lead_source,
            customer.pdp,
            customer.is_internal,
        )
        shown = repr(erased)
        assert not [secret for secret in _secrets(customer) if echoes(secret, shown)]

    def test_erased_customer_card_cannot_be_filled(self) -> None:
        erased = Customer.register("C1", "张三", DAY).erase(DAY)
        with pytest.raises(RuleViolation):
            erased.updated(DAY, profile=BasicProfile(PersonName("李四")))
        assert erased.updated(DAY, csr_id="CSR-2").csr_id == "CSR-2"
        error = raised(attrs.evolve, erased, profile=BasicProfile(PersonName("李四")))
        assert (error.field, error.rule) == ("profile", "profile.erased")

    def test_household(self) -> None:
        household = Household("H1", label="张家")
        assert household.version == 0
        assert "张家" not in repr(household)
        assert raised(Household, "").field == "id"
        assert raised(Household, "H1", label="a\x00").rule == "text.unstorable"

    @given(gen.households(id="H-1"))
    def test_generated_households(self, household: Household) -> None:
        assert household.id == "H-1"
        assert household.version == 0


# -- masking --------------------------------------------------------------------------------------


def _secrets(customer: Customer) -> list[str]:
    profile = customer.profile
    assert profile is not None
    values: list[str | None] = [
        profile.name.value,
        profile.id_number.value if profile.id_number else None,
        profile.email.value if profile.email else None,
        profile.native_place,
        profile.employer,
        profile.department,
        profile.employer_address,
        profile.position,
        profile.occupation_type,
        profile.home_address,
        *(p.e164 if p else None for p in (profile.mobile, profile.work_phone)),
        *(p.e164 if p else None for p in (profile.home_phone, profile.work_fax)),
        *(getattr(customer.life, f.name) for f in attrs.fields(LifeSituation)),
        *(m.name.value if m.name else None for m in customer.family),
        *(m.occupation for m in customer.family),
    ]
    # Relations, insurer names and ids are not personal and are shown; skip texts inside them.
    ids = (customer.id, customer.csr_id, customer.agent_id, customer.household_id)
    shown = [i for i in (*ids, customer.referred_by) if i is not None]
    shown += [m.relation for m in customer.family]
    shown += [h.insurer for h in customer.holdings]
    return [
        v
        for v in values
        if v is not None and "*" not in v and not any(v.strip() in visible for visible in shown)
    ]


class TestMasking:
    def test_known_customer_shows_no_personal_data(self) -> None:
        customer = Customer.register(
            "C1",
            "欧阳娜娜",
            DAY,
            id_number=RID,
            mobile=Phone.parse("13812345678"),
            email=Email("ouyang@example.com"),
            home_address="北京市朝阳区建国路 1 号",
            family=[FamilyMember("父亲", PersonName("欧阳震华"))],
        )
        for shown in (repr(customer), str(customer), repr(customer.profile)):
            for secret in (
                "欧阳娜娜",
                "欧阳震华",
                RID.value,
                "13812345678",
                "ouyang",
                "建国路",
            ):
                assert secret not in shown
        assert "110105********002X" in repr(customer)
        assert "+86 138****5678" in repr(customer)

    @given(gen.customers())
    def test_no_generated_customer_shows_personal_data(self, customer: Customer) -> None:
        shown = repr(customer)
        for secret in _secrets(customer):
            assert not echoes(secret, shown)
