"""The sample portfolio: deterministic, valid, realistic and idempotent."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from decimal import Decimal

import pytest
from stdnum.cn import ric

from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.domain.customers import Customer, LeadSource
from insurcrm.domain.policies import EndReason, Policy, PolicyStatus, ProductLine, PurchaseKind
from insurcrm.domain.unit_of_work import UnitOfWork, UnitOfWorkFactory
from insurcrm.errors import ValidationError
from insurcrm.serialization import unstructure
from insurcrm.services import sample_portfolio
from insurcrm.services.churn import detect_churn
from insurcrm.services.customers import erase_in
from insurcrm.services.sample_portfolio import (
    DEFAULT_AS_OF,
    REGION_CODES,
    SampleStats,
    customer_id,
    generate_sample,
)


def _contents(store: UnitOfWorkFactory) -> tuple[list[object], list[object]]:
    with store.unit_of_work() as uow:
        return (
            [unstructure(c) for c in uow.customers.iterate()],
            [unstructure(p) for p in uow.policies.iterate()],
        )


class Book:
    """A generated sample held in a memory store, read back once."""

    def __init__(self, customers: int, seed: int = 2024) -> None:
        self.store = MemoryStore()
        self.stats = generate_sample(self.store.unit_of_work(), customers=customers, seed=seed)
        with self.store.unit_of_work() as uow:
            self.customers: list[Customer] = list(uow.customers.iterate())
            self.policies: list[Policy] = list(uow.policies.iterate())


@pytest.fixture(scope="module")
def book() -> Book:
    return Book(1000)


# -- determinism ---------------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_portfolio() -> None:
    first, second = MemoryStore(), MemoryStore()
    stats_1 = generate_sample(first.unit_of_work(), customers=150, seed=7)
    stats_2 = generate_sample(second.unit_of_work(), customers=150, seed=7)
    assert stats_1 == stats_2
    assert _contents(first) == _contents(second)


def test_another_seed_gives_another_portfolio() -> None:
    first, second = MemoryStore(), MemoryStore()
    generate_sample(first.unit_of_work(), customers=60, seed=1)
    generate_sample(second.unit_of_work(), customers=60, seed=2)
    assert _contents(first) != _contents(second)


def test_the_same_portfolio_on_sqlite() -> None:
    memory = MemoryStore()
    sql = SqlStore.open("sqlite://", upgrade=True)
    try:
        assert generate_sample(memory.unit_of_work(), customers=80) == generate_sample(
            sql.unit_of_work(), customers=80
        )
        assert _contents(memory) == _contents(sql)
    finally:
        sql.dispose()


# -- idempotence, batches, arguments ---------------------------------------------------------------


def test_a_second_run_adds_nothing_and_says_so() -> None:
    store = MemoryStore()
    first = generate_sample(store.unit_of_work(), customers=50)
    before = _contents(store)
    again = generate_sample(store.unit_of_work(), customers=50)
    assert not first.already_present
    assert again.already_present
    assert (again.customers, again.policies, again.households, again.batches) == (0, 0, 0, 0)
    assert again.last_id is None
    assert _contents(store) == before


@pytest.mark.parametrize(
    ("seed", "size", "as_of"),
    [(51, 50, DEFAULT_AS_OF), (50, 40, DEFAULT_AS_OF), (50, 50, dt.date(2025, 12, 31))],
    ids=["another seed", "another size", "another date"],
)
def test_a_complete_book_made_otherwise_is_refused_not_called_present(
    seed: int, size: int, as_of: dt.date
) -> None:
    store = MemoryStore()
    generate_sample(store.unit_of_work(), customers=50, seed=50)
    before = _contents(store)
    with pytest.raises(ValidationError) as refused:
        generate_sample(store.unit_of_work(), customers=size, seed=seed, as_of=as_of)
    assert (refused.value.field, refused.value.rule) == ("seed", "sample.other_book")
    assert _contents(store) == before


class _Interrupt(Exception):
    """Stands for Ctrl-C or a killed process in the middle of a run."""


def _interrupted(
    store: UnitOfWorkFactory, customers: int, seed: int, after: int, batch_size: int = 40
) -> None:
    """Run the generation and stop it once ``after`` batches are committed."""

    def stop(done: int, total: int) -> None:
        nonlocal after
        after -= 1
        if after == 0:
            raise _Interrupt

    with pytest.raises(_Interrupt):
        generate_sample(
            store.unit_of_work(),
            customers=customers,
            seed=seed,
            batch_size=batch_size,
            progress=stop,
        )


def _everything(store: UnitOfWorkFactory) -> tuple[object, ...]:
    """Every stored customer, policy and service record."""
    customers, policies = _contents(store)
    with store.unit_of_work() as uow:
        records = (uow.complaints, uow.interactions, uow.surveys, uow.churns)
        return (
            customers,
            policies,
            *([unstructure(r) for r in repository.iterate()] for repository in records),
        )


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_an_interrupted_run_is_resumed_to_the_same_book(backend: str) -> None:
    def store() -> UnitOfWorkFactory:
        return MemoryStore() if backend == "memory" else SqlStore.open("sqlite://", upgrade=True)

    size, batch = 1010, 300  # one customer in a thousand erased, at the end
    fresh, resumed = store(), store()
    whole = generate_sample(fresh.unit_of_work(), customers=size, seed=9, batch_size=batch)
    assert whole.erased == 1
    _interrupted(resumed, customers=size, seed=9, after=2, batch_size=batch)
    with resumed.unit_of_work() as uow:
        kept = uow.customers.count()
    assert 2 * batch <= kept < size  # two batches of whole family units
    again = generate_sample(resumed.unit_of_work(), customers=size, seed=9, batch_size=batch)
    assert not again.already_present
    assert again.resumed == kept
    assert again.customers == size - kept
    assert again.batches == whole.batches - 2
    assert _everything(resumed) == _everything(fresh)
    assert generate_sample(resumed.unit_of_work(), customers=size, seed=9).already_present


@pytest.mark.parametrize("backend", ["memory", "sqlite"])
def test_a_run_stopped_in_its_erasures_stores_neither_them_nor_the_last_batch(
    backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def store() -> UnitOfWorkFactory:
        return MemoryStore() if backend == "memory" else SqlStore.open("sqlite://", upgrade=True)

    size, batch = 2100, 800  # two customers erased, in the third (last) batch's transaction
    fresh, stopped = store(), store()
    whole = generate_sample(fresh.unit_of_work(), customers=size, seed=9, batch_size=batch)
    assert (whole.erased, whole.batches) == (2, 3)

    def erase_once(uow: UnitOfWork, customer: str, on: dt.date) -> Customer:
        monkeypatch.setattr(sample_portfolio, "erase_in", _stopped)  # the second one stops
        return erase_in(uow, customer, on)

    monkeypatch.setattr(sample_portfolio, "erase_in", erase_once)
    with pytest.raises(_Interrupt):
        generate_sample(stopped.unit_of_work(), customers=size, seed=9, batch_size=batch)
    monkeypatch.undo()
    with stopped.unit_of_work() as uow:
        kept = list(uow.customers.iterate())
    assert 2 * batch <= len(kept) < size  # the last batch went with the erasure
    assert not any(c.is_erased for c in kept)
    again = generate_sample(stopped.unit_of_work(), customers=size, seed=9, batch_size=batch)
    assert (again.resumed, again.batches, again.erased) == (len(kept), 1, 2)
    assert _everything(stopped) == _everything(fresh)


def _stopped(uow: UnitOfWork, customer: str, on: dt.date) -> Customer:
    raise _Interrupt


def test_part_of_another_book_is_refused_and_left_alone() -> None:
    store = MemoryStore()
    _interrupted(store, customers=150, seed=9, after=1)
    before = _contents(store)
    with pytest.raises(ValidationError) as refused:
        generate_sample(store.unit_of_work(), customers=150, seed=10, batch_size=40)
    assert refused.value.field == "seed"
    assert "another sample book" in str(refused.value)
    assert _contents(store) == before


def test_a_resume_with_another_batch_size_is_refused() -> None:
    store = MemoryStore()
    _interrupted(store, customers=150, seed=9, after=1)  # batches of 40
    before = _contents(store)
    with pytest.raises(ValidationError) as refused:
        generate_sample(store.unit_of_work(), customers=150, seed=9, batch_size=100)
    assert refused.value.field == "batch_size"
    assert _contents(store) == before


def test_batches_commit_and_report_progress() -> None:
    calls: list[tuple[int, int]] = []
    store = MemoryStore()
    stats = generate_sample(
        store.unit_of_work(),
        customers=120,
        batch_size=50,
        progress=lambda done, total: calls.append((done, total)),
    )
    assert stats.batches == len(calls) == 3
    assert [total for _, total in calls] == [120, 120, 120]
    done = [d for d, _ in calls]
    assert done == sorted(done)
    assert done[-1] == 120
    assert 50 <= done[0] <= 53  # a family unit is never split between batches


def test_exactly_the_customers_asked_for(book: Book) -> None:
    assert book.stats.customers == len(book.customers) == 1000
    assert book.stats.policies == len(book.policies)
    assert [c.id for c in book.customers] == [customer_id(n) for n in range(1, 1001)]
    assert book.stats.first_id == "C000001"
    assert book.stats.last_id == "C001000"
    assert book.stats.as_of == DEFAULT_AS_OF


@pytest.mark.parametrize(("customers", "batch_size"), [(0, 500), (10, 0)])
def test_nonsense_sizes_are_refused(customers: int, batch_size: int) -> None:
    with pytest.raises(ValidationError):
        generate_sample(MemoryStore().unit_of_work(), customers=customers, batch_size=batch_size)


# -- validity -------------------------------------------------------------------------------------


def test_every_id_number_is_valid_unique_and_agrees_with_the_card(book: Book) -> None:
    seen: set[str] = set()
    for customer in book.customers:
        if customer.profile is None:
            continue
        rid = customer.profile.id_number
        assert rid is not None
        assert ric.is_valid(rid.value)
        assert rid.value[:6] in REGION_CODES
        assert rid.birth_date == customer.profile.birth_date
        assert rid.gender == customer.profile.gender
        assert rid.birth_date <= customer.created_on
        seen.add(rid.value)
    assert len(seen) == sum(1 for c in book.customers if c.profile is not None)


@pytest.mark.parametrize("code", REGION_CODES)
def test_region_codes_are_only_used_in_years_stdnum_accepts(code: str) -> None:
    from insurcrm.services.sample_portfolio import _code_in_use

    for year in range(1935, 2011):
        body = f"{code}{year}0615001"
        number = body + ric.calc_check_digit(body + "0")
        assert ric.is_valid(number) == _code_in_use(code, year), (code, year)


def test_mobiles_are_chinese_and_unique(book: Book) -> None:
    mobiles = [c.profile.mobile for c in book.customers if c.profile and c.profile.mobile]
    assert len(mobiles) > 900
    assert len(set(mobiles)) == len(mobiles)
    assert all(re.fullmatch(r"\+861[3-9]\d{9}", m.e164) for m in mobiles)


def test_customers_are_chinese_families(book: Book) -> None:
    profiles = [c.profile for c in book.customers if c.profile is not None]
    assert all(re.fullmatch(r"[\u4e00-\u9fff]{2,4}", p.name.value) for p in profiles)
    assert 300 < sum(1 for p in profiles if p.email is not None) < 600
    households = Counter(c.household_id for c in book.customers if c.household_id)
    assert sum(1 for n in households.values() if n > 1) > 100  # shared households
    assert book.stats.households == len(households)
    spouses = [c for c in book.customers if any(f.relation == "配偶" for f in c.family)]
    assert len(spouses) > 500
    assert any(c.is_internal for c in book.customers)
    assert any(c.holdings for c in book.customers)
    assert {c.lead_source for c in book.customers} == set(LeadSource)


def test_referrals_point_to_earlier_customers(book: Book) -> None:
    referred = [c for c in book.customers if c.referred_by is not None]
    assert len(referred) > 100
    for customer in referred:
        assert customer.referred_by is not None
        assert customer.referred_by < customer.id
        assert customer.lead_source is LeadSource.CUSTOMER_REFERRAL


def test_policies_cover_every_line_with_realistic_figures(book: Book) -> None:
    assert {p.product_line for p in book.policies} == set(ProductLine)
    assert all(re.fullmatch(r"P\d{7}", p.id) for p in book.policies)
    assert all(re.fullmatch(r"PL20[12]\d\d{6}", p.number) for p in book.policies)
    assert len({p.number for p in book.policies}) == len(book.policies)
    ten_years_ago = dt.date(2016, 6, 30)
    for p in book.policies:
        assert ten_years_ago <= p.start_date <= DEFAULT_AS_OF
        assert p.is_ours
        assert p.annual_premium.amount > 0
        assert p.annual_premium.amount == p.annual_premium.amount.quantize(Decimal("0.01"))
        if p.beneficiaries:
            assert sum(b.share for b in p.beneficiaries) == 100
            assert all(b.customer_id != p.insured_id for b in p.beneficiaries)


def test_lifecycles_are_lived_up_to_the_date(book: Book) -> None:
    statuses = Counter(p.status for p in book.policies)
    assert set(statuses) == set(PolicyStatus)
    assert statuses[PolicyStatus.IN_FORCE] > 500
    changes = [h for p in book.policies for h in p.history]
    assert all(h.on <= DEFAULT_AS_OF for h in changes)
    cancelled = Counter(h.reason for h in changes if h.to_status is PolicyStatus.CANCELLED)
    assert cancelled[EndReason.NON_PAYMENT] > 0
    assert cancelled[EndReason.FRAUD] > 0
    assert any(h.from_status is PolicyStatus.LAPSED for h in changes)  # reinstatements
    assert sum(len(p.missed_premiums) for p in book.policies) > 10
    renewals = [x for p in book.policies for x in p.purchases if x.kind is PurchaseKind.RENEWAL]
    assert len(renewals) > 500
    assert all(
        p.is_long_term
        for p in book.policies
        if any(x.kind is PurchaseKind.RENEWAL for x in p.purchases)
    )
    assert sum(1 for p in book.policies if p.campaign is not None) > 50


def test_a_few_customers_are_erased(book: Book) -> None:
    erased = [c for c in book.customers if c.is_erased]
    assert book.stats.erased == len(erased) == 1
    assert erased[0].id != "C000001"


def test_the_churn_records_are_those_churn_detection_records(book: Book) -> None:
    with book.store.unit_of_work() as uow:
        churns = list(uow.churns.iterate())
    assert book.stats.churns == len(churns) > 0
    assert any(c.structure is not None and c.causes != () for c in churns)  # analysed
    scan = detect_churn(book.store.unit_of_work(), DEFAULT_AS_OF)
    assert (scan.churned, scan.won_back) == ((), ())


def test_stats_are_plain_values() -> None:
    stats = SampleStats(1, DEFAULT_AS_OF, 1, True, 0, 0, 0, 0, 0, "C000001", None)
    assert stats == SampleStats(1, DEFAULT_AS_OF, 1, True, 0, 0, 0, 0, 0, "C000001", None)
