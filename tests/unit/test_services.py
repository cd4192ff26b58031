"""Customer and policy services: register, erase (§10.4), issue, summarise.

Run on the memory store and, to show the same behaviour, on in-memory SQLite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal

import pytest

from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.domain.card import FamilyMember, Holding
from insurcrm.domain.credit import CreditGrade
from insurcrm.domain.customers import Customer
from insurcrm.domain.policies import (
    Beneficiary,
    EndReason,
    Policy,
    PolicyStatus,
    ProductLine,
    PurchaseKind,
)
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.domain.values import Email, Gender, Money, PersonName, Phone, ResidentId
from insurcrm.errors import Duplicate, NotFound, RuleViolation
from insurcrm.services.customers import erase_customer, register_customer
from insurcrm.services.policies import issue_policy, portfolio_summary

DAY = dt.date(2024, 3, 1)
LATER = dt.date(2025, 6, 30)
NAME = "欧阳娜娜"
RID = ResidentId("11010519491231002X")  # female, born 1949-12-31
MOBILE = Phone.parse("138 1234 5678")
EMAIL = Email("nana@example.com")


def nana(customer_id: str = "C1") -> Customer:
    return Customer.register(
        customer_id,
        NAME,
        DAY,
        gender=Gender.FEMALE,
        birth_date=RID.birth_date,
        id_number=RID,
        mobile=MOBILE,
        home_phone=Phone.parse("010 6234 5678"),
        email=EMAIL,
        home_address="北京市朝阳区建设路1号",
        family=[FamilyMember("儿子", PersonName("欧阳明"), dt.date(1975, 1, 2), "教师")],
        holdings=[Holding("中国人寿保险股份有限公司", ProductLine.LIFE, term_years=20)],
    )


def policy(
    policy_id: str,
    holder: str,
    premium: str = "1000.00",
    *,
    line: ProductLine = ProductLine.LIFE,
    insurer: str | None = None,
    beneficiaries: tuple[Beneficiary, ...] = (),
    start: dt.date = DAY,
) -> Policy:
    return Policy(
        id=policy_id,
        number=f"PL-{policy_id}",
        policyholder_id=holder,
        insured_id=holder,
        product_line=line,
        start_date=start,
        term_years=20,
        sum_assured=Money("100000"),
        annual_premium=Money(premium),
        insurer=insurer,
        beneficiaries=beneficiaries,
    )


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> Iterator[UnitOfWorkFactory]:
    """The memory store, and the same checks on in-memory SQLite."""
    if request.param == "memory":
        yield MemoryStore()
        return
    sql = SqlStore.open("sqlite://", upgrade=True)
    yield sql
    sql.dispose()


# -- register ----------------------------------------------------------------------------------


class TestRegister:
    def test_stores_the_customer_and_returns_version_1(self, store: UnitOfWorkFactory) -> None:
        stored = register_customer(store.unit_of_work(), nana())
        assert stored.version == 1
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1") == stored

    def test_a_taken_id_is_refused(self, store: UnitOfWorkFactory) -> None:
        register_customer(store.unit_of_work(), nana())
        with pytest.raises(Duplicate):
            register_customer(store.unit_of_work(), nana())
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 1

    def test_an_unknown_referrer_stores_nothing(self, store: UnitOfWorkFactory) -> None:
        with pytest.raises(NotFound):
            register_customer(
                store.unit_of_work(), Customer.register("C2", "张伟", DAY, referred_by="C9")
            )
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0


# -- erase ---------------------------------------------------------------------------------------


def _book(store: UnitOfWorkFactory) -> None:
    """C1 (to erase) holds P1; C2 holds P2 naming C1 and a non-customer as beneficiaries."""
    with store.unit_of_work() as uow:
        uow.customers.add(nana())
        uow.customers.add(Customer.register("C2", "王强", DAY, mobile=Phone.parse("13900001111")))
        uow.policies.add(policy("P1", "C1").activate(DAY))
        named = (
            Beneficiary(Decimal(60), customer_id="C1", name=PersonName(NAME), relation="配偶"),
            Beneficiary(Decimal(40), name=PersonName("王小明"), relation="子女"),
        )
        uow.policies.add(policy("P2", "C2", beneficiaries=named).activate(DAY))
        uow.commit()


class TestErase:
    def test_the_customer_cannot_be_found_by_personal_data(self, store: UnitOfWorkFactory) -> None:
        _book(store)
        erased = erase_customer(store.unit_of_work(), "C1", LATER)
        assert erased.is_erased
        assert erased.erased_on == LATER
        with store.unit_of_work() as uow:
            assert uow.customers.find_by_name(NAME) == []
            assert uow.customers.find_by_phone(MOBILE) == []
            assert uow.customers.find_by_id_number(RID) == []
            assert uow.customers.find_by_email(EMAIL) == []
            stub = uow.customers.get("C1")
        assert stub == erased
        assert stub.profile is None
        assert stub.family == ()
        assert stub.life.is_empty()
        assert [h.insurer for h in stub.holdings] == ["erased"]
        assert NAME not in repr(stub)

    def test_policies_and_counts_stay(self, store: UnitOfWorkFactory) -> None:
        _book(store)
        before = portfolio_summary(store.unit_of_work(), LATER)
        erase_customer(store.unit_of_work(), "C1", LATER)
        after = portfolio_summary(store.unit_of_work(), LATER)
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 2
            assert uow.policies.count() == 2
            assert uow.policies.get("P1").policyholder_id == "C1"
            assert [p.id for p in uow.policies.of_customer("C1")] == ["P1"]
        assert after.erased_customers == 1
        assert (after.customers, after.policies, after.policies_in_force) == (
            before.customers,
            before.policies,
            before.policies_in_force,
        )
        assert after.premium_in_force == before.premium_in_force
        assert after.credit_grades == before.credit_grades

    def test_the_beneficiary_name_is_removed_and_other_people_kept(
        self, store: UnitOfWorkFactory
    ) -> None:
        _book(store)
        erase_customer(store.unit_of_work(), "C1", LATER)
        with store.unit_of_work() as uow:
            named = uow.policies.get("P2")
        erased, other = named.beneficiaries
        assert (erased.customer_id, erased.name, erased.relation, erased.erased) == (
            "C1",
            None,
            None,
            True,
        )
        assert erased.share == Decimal(60)
        assert other.name == PersonName("王小明")
        assert other.relation == "子女"
        assert not other.erased
        assert sum(b.share for b in named.beneficiaries) == 100

    def test_erasing_again_changes_nothing(self, store: UnitOfWorkFactory) -> None:
        _book(store)
        first = erase_customer(store.unit_of_work(), "C1", LATER)
        with store.unit_of_work() as uow:
            p2 = uow.policies.get("P2")
        again = erase_customer(store.unit_of_work(), "C1", LATER + dt.timedelta(days=30))
        assert again == first
        assert again.erased_on == LATER
        with store.unit_of_work() as uow:
            assert uow.policies.get("P2") == p2

    def test_an_unknown_customer_is_not_found(self, store: UnitOfWorkFactory) -> None:
        with pytest.raises(NotFound):
            erase_customer(store.unit_of_work(), "C404", LATER)

    def test_forget_beneficiary_returns_the_same_policy_when_nothing_names_them(self) -> None:
        plain = policy("P9", "C2")
        assert plain.forget_beneficiary("C1") is plain


# -- issue -------------------------------------------------------------------------------------


class TestIssue:
    def test_activates_and_records_the_purchase(self, store: UnitOfWorkFactory) -> None:
        register_customer(store.unit_of_work(), nana())
        stored = issue_policy(store.unit_of_work(), policy("P1", "C1"), DAY)
        assert stored.version == 1
        assert stored.status is PolicyStatus.IN_FORCE
        assert [(p.on, p.kind) for p in stored.purchases] == [(DAY, PurchaseKind.NEW)]
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1") == stored

    def test_a_policy_in_force_is_refused_and_nothing_stored(
        self, store: UnitOfWorkFactory
    ) -> None:
        register_customer(store.unit_of_work(), nana())
        with pytest.raises(RuleViolation):
            issue_policy(store.unit_of_work(), policy("P1", "C1").activate(DAY), DAY)
        with store.unit_of_work() as uow:
            assert uow.policies.count() == 0


# -- summary -----------------------------------------------------------------------------------


class TestPortfolioSummary:
    def test_sums_are_exact_and_only_our_policies_in_force_count(
        self, store: UnitOfWorkFactory
    ) -> None:
        with store.unit_of_work() as uow:
            for cid in ("C1", "C2", "C3", "C4"):
                uow.customers.add(Customer.register(cid, "张伟", DAY))
            # 0.1 + 0.2 + 0.7 is not 1.0 in floating point; in Money it is.
            uow.policies.add(policy("P1", "C1", "0.10").activate(DAY))
            uow.policies.add(policy("P2", "C1", "0.20").activate(DAY))
            uow.policies.add(policy("P3", "C2", "0.70", line=ProductLine.ACCIDENT).activate(DAY))
            uow.policies.add(policy("P4", "C2", "5.55").activate(DAY).lapse(LATER))
            uow.policies.add(policy("P5", "C3", "7.77", insurer="中国人寿"))  # a holding elsewhere
            uow.policies.add(policy("P6", "C3", "9.99"))  # pending
            uow.policies.add(
                policy("P7", "C4", "3.33").activate(DAY).cancel(LATER, EndReason.FRAUD)
            )
            uow.commit()
        summary = portfolio_summary(store.unit_of_work(), LATER)
        assert summary.customers == 4
        assert summary.erased_customers == 0
        assert summary.policies == 7
        assert summary.policies_in_force == 3
        assert summary.premium_in_force == Money("1.00")
        assert summary.premium_in_force.amount == Decimal("1.00")
        life = summary.line(ProductLine.LIFE)
        assert (life.policies, life.annual_premium) == (2, Money("0.30"))
        assert summary.line(ProductLine.ACCIDENT).annual_premium == Money("0.70")
        assert summary.line(ProductLine.AUTO).policies == 0
        assert [f.line for f in summary.in_force_by_line] == list(ProductLine)

    def test_in_force_is_read_from_the_history_as_of_the_date(
        self, store: UnitOfWorkFactory
    ) -> None:
        with store.unit_of_work() as uow:
            uow.customers.add(Customer.register("C1", "张伟", DAY))
            uow.policies.add(policy("P1", "C1", "12.34").activate(DAY).lapse(LATER))
            uow.commit()
        assert portfolio_summary(store.unit_of_work(), DAY).policies_in_force == 1
        assert portfolio_summary(store.unit_of_work(), LATER).policies_in_force == 0

    def test_credit_grades_count_every_customer(self, store: UnitOfWorkFactory) -> None:
        with store.unit_of_work() as uow:
            for cid in ("C1", "C2", "C3", "C4"):
                uow.customers.add(Customer.register(cid, "张伟", DAY))
            a = policy("P1", "C1").activate(DAY).renew(dt.date(2025, 3, 1))
            uow.policies.add(policy("P0", "C1").activate(DAY))
            uow.policies.add(a)
            uow.policies.add(policy("P2", "C2").activate(DAY))
            uow.policies.add(policy("P3", "C3").activate(DAY).cancel(LATER, EndReason.NON_PAYMENT))
            uow.commit()
        summary = portfolio_summary(store.unit_of_work(), LATER)
        assert summary.grade(CreditGrade.A) == 1
        assert summary.grade(CreditGrade.B) == 1
        assert summary.grade(CreditGrade.C) == 0
        assert summary.grade(CreditGrade.D) == 1
        assert summary.grade(None) == 1  # C4: no purchase
        assert [g.key for g in summary.credit_grades] == ["A", "B", "C", "D", "none"]
        assert summary.credit_grades[-1].label_zh == "无等级"
        assert sum(g.customers for g in summary.credit_grades) == summary.customers

    def test_an_empty_store(self, store: UnitOfWorkFactory) -> None:
        summary = portfolio_summary(store.unit_of_work(), LATER)
        assert (summary.customers, summary.policies, summary.policies_in_force) == (0, 0, 0)
        assert summary.premium_in_force == Money("0")
