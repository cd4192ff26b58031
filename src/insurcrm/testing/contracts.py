"""The storage contract: one test suite every adapter must pass.

insurcrm runs it against memory, SQLite and PostgreSQL; run it against your
own adapter by subclassing :class:`StoreContract` in a pytest test class and
returning an empty store from :meth:`StoreContract.empty_store`::

    from insurcrm.testing.contracts import StoreContract

    class TestMyAdapter(StoreContract):
        def empty_store(self):
            return MyStore(...)  # anything with .unit_of_work()

Every test calls ``empty_store()`` for a store with no data, so each test
(and each Hypothesis example) starts clean.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from insurcrm.domain.card import FamilyMember, Holding, LifeSituation
from insurcrm.domain.customers import Customer, Household, LeadSource
from insurcrm.domain.policies import Beneficiary, EndReason, Policy, ProductLine
from insurcrm.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from insurcrm.domain.values import Email, Gender, Money, PersonName, Phone, ResidentId
from insurcrm.errors import ConcurrencyError, Duplicate, NotFound, StorageError
from insurcrm.testing import strategies as gen

__all__ = ["TRICKY_TEXTS", "StoreContract"]

DAY = dt.date(2024, 3, 1)

#: Text users type that a careless store mangles; every one must come back byte for byte.
TRICKY_TEXTS = (
    "张伟",
    "欧阳娜娜",
    'O\'Brien "Bob"',
    "'; DROP TABLE customers; --",
    "Robert'); DELETE FROM policies; --",
    "emoji 👨‍👩‍👧‍👦 🐯 ✓",
    "tab\tnew\nline\r\nend",
    "%_\\ like wildcards",
    "ñandú Ærøskøbing Ǆ",
    "长" * 5000,
)


def make_customer(customer_id: str = "C1", name: str = "张伟", **card: object) -> Customer:
    """A valid customer registered on :data:`DAY`."""
    return Customer.register(customer_id, name, DAY, **card)


def make_policy(
    policy_id: str = "P1",
    holder: str = "C1",
    *,
    number: str | None = None,
    premium: str = "1234.56",
    **fields: object,
) -> Policy:
    """A valid pending life policy of ours held and insured by ``holder``."""
    return Policy(
        id=policy_id,
        number=number or f"N-{policy_id}",
        policyholder_id=holder,
        insured_id=holder,
        product_line=ProductLine.LIFE,
        start_date=DAY,
        term_years=20,
        sum_assured=Money("500000.00"),
        annual_premium=Money(premium),
        **fields,  # type: ignore[arg-type]
    )


#: The properties run once per adapter subclass; Hypothesis must not treat that as flaky.
_SHARED = settings(suppress_health_check=[HealthCheck.differing_executors])


def _save_and_commit(uow: UnitOfWork, customer: Customer) -> None:
    uow.customers.save(customer)
    uow.commit()


class StoreContract:
    """Behaviour every store (unit-of-work factory) must show. Subclass and implement
    :meth:`empty_store`."""

    def empty_store(self) -> UnitOfWorkFactory:
        """Return a store holding no data (a new one, or a cleared one)."""
        raise NotImplementedError

    # -- helpers ------------------------------------------------------------------

    def stored(self, store: UnitOfWorkFactory, *customers: Customer) -> list[Customer]:
        """Add ``customers`` and commit; returns the stored copies."""
        with store.unit_of_work() as uow:
            added = [uow.customers.add(c) for c in customers]
            uow.commit()
        return added

    # -- customers: add, get, save ------------------------------------------------

    def test_add_then_get_returns_the_customer_at_version_1(self) -> None:
        store = self.empty_store()
        customer = make_customer(
            gender=Gender.FEMALE,
            id_number=ResidentId("11010519491231002X"),
            mobile=Phone.parse("13812345678"),
            email=Email("zhang.wei@example.com"),
            home_address="北京市朝阳区建国路 88 号",
            family=[FamilyMember("女儿", PersonName("张小"), dt.date(2010, 5, 1))],
            holdings=[Holding("平安人寿", ProductLine.CRITICAL_ILLNESS, sum_assured=Money("1.10"))],
            life=LifeSituation(hobbies="钓鱼", health="良好"),
            lead_source=LeadSource.CUSTOMER_REFERRAL,
            is_internal=True,
        )
        (added,) = self.stored(store, customer)
        assert added == attrs.evolve(customer, version=1)
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1") == added
            assert uow.customers.count() == 1

    def test_get_unknown_customer_raises_not_found(self) -> None:
        with self.empty_store().unit_of_work() as uow, pytest.raises(NotFound):
            uow.customers.get("nobody")

    def test_adding_a_taken_id_raises_duplicate(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow, pytest.raises(Duplicate):
            uow.customers.add(make_customer(name="李娜"))

    def test_adding_a_stored_copy_again_is_refused(self) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, make_customer())
        with store.unit_of_work() as uow, pytest.raises((Duplicate, ConcurrencyError)):
            uow.customers.add(added)

    def test_save_bumps_the_version_and_stores_the_change(self) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            saved = uow.customers.save(added.updated(DAY, is_internal=True))
            uow.commit()
        assert saved.version == 2
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1") == saved

    def test_saving_a_stale_copy_raises_and_keeps_the_stored_row(self) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            fresh = uow.customers.save(added.updated(DAY, csr_id="CSR-1"))
            uow.commit()
        with store.unit_of_work() as uow:
            with pytest.raises(ConcurrencyError):
                uow.customers.save(added.updated(DAY, csr_id="CSR-2"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1") == fresh

    def test_two_writers_on_the_same_customer_never_lose_an_update(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        first, second = store.unit_of_work(), store.unit_of_work()
        with first, second:
            mine = first.customers.get("C1")
            theirs = second.customers.get("C1")
            first.customers.save(mine.updated(DAY, csr_id="CSR-1"))
            first.commit()
            with pytest.raises(ConcurrencyError):
                _save_and_commit(second, theirs.updated(DAY, csr_id="CSR-2"))
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1").csr_id == "CSR-1"
            assert uow.customers.get("C1").version == 2

    def test_saving_an_unknown_customer_raises_not_found(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.customers.save(attrs.evolve(make_customer(), version=1))

    def test_unknown_household_or_referrer_is_refused(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.customers.add(make_customer(household_id="H-none"))
            with pytest.raises(NotFound):
                uow.customers.add(make_customer(referred_by="C-none"))

    # -- transactions ---------------------------------------------------------------

    def test_an_exception_rolls_back_everything_in_the_unit_of_work(self) -> None:
        store = self.empty_store()

        def fail_half_way() -> None:
            with store.unit_of_work() as uow:
                uow.households.add(Household("H1"))
                uow.customers.add(make_customer(household_id="H1"))
                uow.policies.add(make_policy().activate(DAY))
                raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            fail_half_way()
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0
            assert uow.policies.count() == 0
            with pytest.raises(NotFound):
                uow.households.get("H1")

    def test_leaving_without_commit_stores_nothing(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer())
        with store.unit_of_work() as uow:
            assert uow.customers.count() == 0

    def test_rollback_undoes_only_what_came_after_the_last_commit(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            uow.customers.add(make_customer("C1"))
            uow.commit()
            uow.customers.add(make_customer("C2"))
            uow.rollback()
            assert [c.id for c in uow.customers.iterate()] == ["C1"]
            uow.customers.add(make_customer("C3"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.iterate()] == ["C1", "C3"]

    def test_a_unit_of_work_sees_its_own_uncommitted_writes(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            added = uow.customers.add(make_customer())
            assert uow.customers.get("C1") == added
            assert uow.customers.count() == 1

    def test_repositories_refuse_use_outside_a_with_block(self) -> None:
        uow: UnitOfWork = self.empty_store().unit_of_work()
        with pytest.raises(StorageError):
            uow.customers.get("C1")

    def test_a_unit_of_work_can_be_entered_again(self) -> None:
        store = self.empty_store()
        uow = store.unit_of_work()
        with uow:
            uow.customers.add(make_customer("C1"))
            uow.commit()
        with uow:
            uow.customers.add(make_customer("C2"))
            uow.commit()
        with uow:
            assert uow.customers.count() == 2

    # -- lookups ------------------------------------------------------------------------

    def test_lookups_by_personal_data(self) -> None:
        store = self.empty_store()
        phone = Phone.parse("13912345678")
        rid = ResidentId("11010519491231002X")
        email = Email("li.na@example.com")
        self.stored(
            store,
            make_customer("C1", "李娜", mobile=phone, id_number=rid, email=email),
            make_customer("C2", "李娜", home_phone=Phone.parse("01065529988")),
            make_customer("C3", "王芳", work_phone=phone),
        )
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.find_by_phone(phone)] == ["C1", "C3"]
            assert [c.id for c in uow.customers.find_by_id_number(rid)] == ["C1"]
            assert [c.id for c in uow.customers.find_by_email(email)] == ["C1"]
            assert [c.id for c in uow.customers.find_by_name("李娜")] == ["C1", "C2"]
            assert uow.customers.find_by_name("李") == []

    def test_an_erased_customer_is_not_found_by_personal_data(self) -> None:
        store = self.empty_store()
        phone = Phone.parse("13912345678")
        (added,) = self.stored(store, make_customer("C1", "李娜", mobile=phone))
        with store.unit_of_work() as uow:
            erased = uow.customers.save(added.erase(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.customers.find_by_phone(phone) == []
            assert uow.customers.find_by_name("李娜") == []
            assert uow.customers.get("C1") == erased
            assert uow.customers.count() == 1

    def test_households_and_members(self) -> None:
        store = self.empty_store()
        with store.unit_of_work() as uow:
            household = uow.households.add(Household("H1", "张家"))
            uow.customers.add(make_customer("C1", household_id="H1"))
            uow.customers.add(make_customer("C2", household_id="H1"))
            uow.customers.add(make_customer("C3"))
            renamed = uow.households.save(attrs.evolve(household, label="张府"))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.households.get("H1") == renamed
            assert renamed.version == 2
            assert [c.id for c in uow.customers.in_household("H1")] == ["C1", "C2"]
            with pytest.raises(ConcurrencyError):
                uow.households.save(household)
            with pytest.raises(Duplicate):
                uow.households.add(Household("H1"))

    def test_referrals_of_a_customer(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"))
        self.stored(
            store,
            make_customer("C3", referred_by="C1"),
            make_customer("C2", referred_by="C1"),
            make_customer("C4", referred_by="C3"),
        )
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.referrals_of("C1")] == ["C2", "C3"]
            assert [c.id for c in uow.customers.referrals_of("C4")] == []

    def test_iterate_streams_every_customer_in_id_order(self) -> None:
        store = self.empty_store()
        ids = [f"C{i:04d}" for i in range(1203)]
        with store.unit_of_work() as uow:
            for i in reversed(ids):
                uow.customers.add(make_customer(i))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [c.id for c in uow.customers.iterate()] == ids
            assert uow.customers.count() == len(ids)

    # -- policies -----------------------------------------------------------------------

    def test_policy_round_trip_with_history_purchases_and_beneficiaries(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer("C1"), make_customer("C2", "李娜"))
        policy = (
            make_policy(
                beneficiaries=[
                    Beneficiary(Decimal("33.33"), customer_id="C2", relation="配偶"),
                    Beneficiary(Decimal("66.67"), name=PersonName("张小"), relation="女儿"),
                ],
                campaign="2024 春季",
            )
            .activate(DAY)
            .renew(dt.date(2025, 3, 1), Money("1300.00"))
            .record_missed_premium(dt.date(2026, 3, 1))
            .lapse(dt.date(2026, 5, 1))
            .reinstate(dt.date(2026, 6, 1))
        )
        with store.unit_of_work() as uow:
            added = uow.policies.add(policy)
            uow.commit()
        assert added == attrs.evolve(policy, version=1)
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1") == added
            assert uow.policies.get_by_number("N-P1") == added
            assert uow.policies.of_customer("C1") == [added]
            assert uow.policies.naming_beneficiary("C2") == [added]
            assert uow.policies.of_customer("C2") == []

    def test_policy_save_and_stale_save(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            added = uow.policies.add(make_policy().activate(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            lapsed = uow.policies.save(added.lapse(dt.date(2025, 1, 1)))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1") == lapsed
            with pytest.raises(ConcurrencyError):
                uow.policies.save(added.surrender(dt.date(2025, 1, 1)))
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1") == lapsed

    def test_a_policy_needs_stored_parties_and_unique_numbers(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        with store.unit_of_work() as uow:
            with pytest.raises(NotFound):
                uow.policies.add(make_policy(holder="C-none"))
            with pytest.raises(NotFound):
                uow.policies.add(
                    make_policy(beneficiaries=[Beneficiary(Decimal(100), customer_id="C-x")])
                )
            uow.policies.add(make_policy("P1", number="N-1"))
            with pytest.raises(Duplicate):
                uow.policies.add(make_policy("P1", number="N-2"))
            with pytest.raises(Duplicate):
                uow.policies.add(make_policy("P2", number="N-1"))
            with pytest.raises(NotFound):
                uow.policies.get_by_number("N-9")
            with pytest.raises(NotFound):
                uow.policies.get("P9")

    def test_money_is_exact_in_storage(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        amounts = ["0.10", "0.20", "0.30", "9999999999.99", "0.01", "1234567.89"]
        with store.unit_of_work() as uow:
            for i, amount in enumerate(amounts):
                uow.policies.add(make_policy(f"P{i}", premium=amount))
            uow.commit()
        with store.unit_of_work() as uow:
            stored = [p.annual_premium.amount for p in uow.policies.iterate()]
        assert stored == [Decimal(a) for a in amounts]
        assert sum(stored) == sum(Decimal(a) for a in amounts)

    def test_policies_iterate_in_id_order_across_batches(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        ids = [f"P{i:04d}" for i in range(1010)]
        with store.unit_of_work() as uow:
            for i in ids:
                uow.policies.add(make_policy(i).activate(DAY))
            uow.commit()
        with store.unit_of_work() as uow:
            assert [p.id for p in uow.policies.iterate()] == ids
            assert uow.policies.count() == len(ids)

    def test_cancelled_policy_reason_survives(self) -> None:
        store = self.empty_store()
        self.stored(store, make_customer())
        policy = make_policy().activate(DAY).cancel(dt.date(2024, 9, 1), EndReason.FRAUD)
        with store.unit_of_work() as uow:
            uow.policies.add(policy)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get("P1").history[-1].reason is EndReason.FRAUD

    # -- exact text -----------------------------------------------------------------------

    @pytest.mark.parametrize("text", TRICKY_TEXTS)
    def test_typed_text_comes_back_byte_for_byte(self, text: str) -> None:
        store = self.empty_store()
        customer = make_customer(
            "C1",
            text,
            home_address=text,
            family=[FamilyMember(text, PersonName(text))],
            life=LifeSituation(hobbies=text),
        )
        (added,) = self.stored(store, customer)
        with store.unit_of_work() as uow:
            back = uow.customers.get("C1")
            assert back == added
            assert back.profile is not None
            assert back.profile.name.value.encode() == text.encode()
            assert [c.id for c in uow.customers.find_by_name(text)] == ["C1"]

    # -- properties -------------------------------------------------------------------------

    @_SHARED
    @given(customer=gen.customers())
    def test_any_valid_customer_round_trips(self, customer: Customer) -> None:
        store = self.empty_store()
        (added,) = self.stored(store, customer)
        with store.unit_of_work() as uow:
            assert uow.customers.get(customer.id) == added == attrs.evolve(customer, version=1)

    @_SHARED
    @given(data=st.data())
    def test_any_valid_policy_round_trips(self, data: st.DataObject) -> None:
        store = self.empty_store()
        holder, insured = self.stored(
            store, data.draw(gen.customers(id="C1")), data.draw(gen.customers(id="C2"))
        )
        policy = data.draw(gen.policies(policyholder_id=holder.id, insured_id=insured.id))
        with store.unit_of_work() as uow:
            added = uow.policies.add(policy)
            uow.commit()
        with store.unit_of_work() as uow:
            assert uow.policies.get(policy.id) == added == attrs.evolve(policy, version=1)
