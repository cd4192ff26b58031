"""The policy aggregate (DOMAIN.md §2): lifecycle, purchases, beneficiaries, validation."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from insurcrm.domain.policies import (
    TRANSITIONS,
    Beneficiary,
    EndReason,
    MissedPremium,
    Policy,
    PolicyStatus,
    ProductLine,
    Purchase,
    PurchaseKind,
    StatusChange,
)
from insurcrm.domain.values import Money, PersonName
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.testing import strategies as gen

DAY = dt.date(2024, 3, 1)
S = PolicyStatus
ALL_PAIRS = list(itertools.product(PolicyStatus, PolicyStatus))


def days(n: int) -> dt.date:
    return DAY + dt.timedelta(days=n)


def make_policy(**fields: Any) -> Policy:
    values: dict[str, Any] = {
        "id": "P1",
        "number": "N-1",
        "policyholder_id": "C1",
        "insured_id": "C2",
        "product_line": ProductLine.LIFE,
        "start_date": DAY,
        "term_years": 20,
        "sum_assured": Money("500000"),
        "annual_premium": Money("1200.50"),
    }
    values.update(fields)
    return Policy(**values)


def in_status(status: PolicyStatus, **fields: Any) -> Policy:
    """A policy brought to ``status`` by a legal path, its last change dated DAY + 20."""
    policy = make_policy(**fields)
    if status is S.PENDING:
        return policy
    policy = policy.activate(days(10))
    if status is S.IN_FORCE:
        return policy
    if status is S.LAPSED:
        return policy.lapse(days(20))
    return policy.transition(status, days(20))


def raised(call: Any, *args: Any, **kwargs: Any) -> ValidationError:
    with pytest.raises(ValidationError) as info:
        call(*args, **kwargs)
    return info.value


# -- state machine --------------------------------------------------------------------------------


class TestLifecycle:
    def test_transition_table_is_the_documented_one(self) -> None:
        ends = {S.LAPSED, S.SURRENDERED, S.MATURED, S.CANCELLED, S.CLAIMED_TERMINATED}
        assert TRANSITIONS[S.PENDING] == {S.IN_FORCE}
        assert TRANSITIONS[S.IN_FORCE] == ends
        assert TRANSITIONS[S.LAPSED] == {S.IN_FORCE}
        for status in ends - {S.LAPSED}:
            assert TRANSITIONS[status] == frozenset()
        assert set(TRANSITIONS) == set(PolicyStatus)

    @pytest.mark.parametrize(("start", "to"), ALL_PAIRS)
    def test_a_transition_succeeds_iff_it_is_legal(
        self, start: PolicyStatus, to: PolicyStatus
    ) -> None:
        policy = in_status(start)
        assert policy.status is start
        if to in TRANSITIONS[start]:
            moved = policy.transition(to, days(30))
            assert moved.status is to
            assert moved.history[-1] == StatusChange(days(30), start, to)
            assert moved.history[:-1] == policy.history
        else:
            with pytest.raises(RuleViolation):
                policy.transition(to, days(30))

    @given(st.data(), st.sampled_from(PolicyStatus), st.integers(min_value=0, max_value=500))
    def test_from_any_reachable_state_exactly_the_legal_moves_succeed(
        self, data: st.DataObject, to: PolicyStatus, gap: int
    ) -> None:
        policy = data.draw(gen.policies("C1", "C2"))
        last = policy.history[-1].on if policy.history else policy.start_date
        on = last + dt.timedelta(days=gap)
        legal = to in TRANSITIONS[policy.status]
        try:
            moved = policy.transition(to, on)
        except RuleViolation:
            assert not legal
        else:
            assert legal
            assert moved.status is to
            assert moved.history[-1].on == on

    def test_illegal_move_leaves_the_policy_unchanged(self) -> None:
        policy = in_status(S.MATURED)
        before = attrs.evolve(policy)
        with pytest.raises(RuleViolation):
            policy.reinstate(days(40))
        assert policy == before

    @given(gen.policies("C1", "C2"))
    def test_generated_history_is_a_legal_dated_walk(self, policy: Policy) -> None:
        status = S.PENDING
        previous: dt.date | None = None
        for change in policy.history:
            assert change.from_status is status
            assert change.to_status in TRANSITIONS[status]
            assert previous is None or previous <= change.on
            status, previous = change.to_status, change.on
        assert policy.status is status
        purchase_days = [p.on for p in policy.purchases]
        assert purchase_days == sorted(purchase_days)
        assert policy.version == 0

    @given(gen.policies("C1", "C2"), st.integers(min_value=-400, max_value=4000))
    def test_status_on_replays_the_history(self, policy: Policy, offset: int) -> None:
        day = policy.start_date + dt.timedelta(days=offset)
        expected = S.PENDING
        for change in policy.history:
            if change.on <= day:
                expected = change.to_status
        assert policy.status_on(day) is expected

    @pytest.mark.parametrize("status", [S.PENDING, S.IN_FORCE, S.LAPSED])
    def test_backdating_before_the_last_change_is_refused(self, status: PolicyStatus) -> None:
        policy = in_status(status)
        last = policy.history[-1].on if policy.history else None
        if last is None:
            policy = policy.activate(days(5))
            last = days(5)
        target = next(iter(TRANSITIONS[policy.status]))
        with pytest.raises(RuleViolation):
            policy.transition(target, last - dt.timedelta(days=1))
        assert policy.transition(target, last).history[-1].on == last

    @given(gen.policies("C1", "C2"), st.integers(min_value=1, max_value=1000))
    def test_backdating_is_refused_for_any_policy(self, policy: Policy, back: int) -> None:
        assume(policy.history)
        for to in TRANSITIONS[policy.status]:
            with pytest.raises(RuleViolation):
                policy.transition(to, policy.history[-1].on - dt.timedelta(days=back))

    def test_every_change_keeps_its_date_and_reason(self) -> None:
        policy = (
            make_policy()
            .activate(days(1))
            .lapse(days(100))
            .reinstate(days(200))
            .cancel(days(300), EndReason.FRAUD)
        )
        assert policy.history == (
            StatusChange(days(1), S.PENDING, S.IN_FORCE),
            StatusChange(days(100), S.IN_FORCE, S.LAPSED, EndReason.NON_PAYMENT),
            StatusChange(days(200), S.LAPSED, S.IN_FORCE),
            StatusChange(days(300), S.IN_FORCE, S.CANCELLED, EndReason.FRAUD),
        )
        assert policy.status_on(days(150)) is S.LAPSED
        assert policy.status_on(DAY) is S.PENDING

    def test_named_moves_record_their_reasons(self) -> None:
        active = make_policy().activate(DAY)
        assert active.surrender(days(1)).history[-1].reason is EndReason.CUSTOMER_REQUEST
        assert active.mature(days(1)).status is S.MATURED
        assert active.terminate_by_claim(days(1)).status is S.CLAIMED_TERMINATED
        assert active.lapse(days(1), None).history[-1].reason is None
        assert active.cancel(days(1), EndReason.OTHER).history[-1].reason is EndReason.OTHER

    def test_history_must_end_in_the_status(self) -> None:
        error = raised(
            make_policy, status=S.LAPSED, history=[StatusChange(DAY, S.PENDING, S.IN_FORCE)]
        )
        assert (error.field, error.rule) == ("status", "status.history")

    def test_labels(self) -> None:
        assert S.LAPSED.label_zh == "失效"
        assert S.SURRENDERED.label_zh == "退保"
        assert ProductLine.CRITICAL_ILLNESS.label_zh == "重疾险"


# -- purchases ------------------------------------------------------------------------------------


class TestPurchases:
    def test_activating_our_policy_is_a_new_purchase(self) -> None:
        policy = make_policy().activate(days(3))
        assert policy.purchases == (Purchase(days(3), Money("1200.50"), PurchaseKind.NEW),)
        assert policy.is_ours

    def test_another_insurers_policy_makes_no_purchase(self) -> None:
        policy = make_policy(insurer="平安人寿").activate(days(3))
        assert policy.purchases == ()
        assert not policy.is_ours
        with pytest.raises(RuleViolation):
            policy.renew(days(400))

    def test_reinstatement_is_not_a_purchase(self) -> None:
        policy = make_policy().activate(DAY).lapse(days(10)).reinstate(days(20))
        assert len(policy.purchases) == 1

    def test_renewal_is_a_purchase(self) -> None:
        policy = make_policy().activate(DAY).renew(days(365))
        assert policy.purchases[-1] == Purchase(days(365), Money("1200.50"), PurchaseKind.RENEWAL)
        raised_premium = policy.renew(days(730), Money("1300"))
        assert raised_premium.annual_premium == Money("1300")
        assert raised_premium.purchases[-1].amount == Money("1300")

    @pytest.mark.parametrize("status", [S.PENDING, S.LAPSED, S.SURRENDERED, S.CANCELLED])
    def test_only_a_policy_in_force_can_be_renewed(self, status: PolicyStatus) -> None:
        with pytest.raises(RuleViolation):
            in_status(status).renew(days(400))

    def test_renewal_cannot_predate_the_last_purchase(self) -> None:
        policy = make_policy().activate(days(10))
        with pytest.raises(RuleViolation):
            policy.renew(days(9))
        assert len(policy.renew(days(10)).purchases) == 2

    def test_renewal_in_another_currency_is_refused(self) -> None:
        error = raised(make_policy().activate(DAY).renew, days(1), Money(5, "USD"))
        assert (error.field, error.rule) == ("premium", "money.mixed")

    def test_missed_premiums_are_recorded_with_their_due_date(self) -> None:
        policy = make_policy().activate(DAY).record_missed_premium(days(365))
        assert policy.missed_premiums == (MissedPremium(days(365), Money("1200.50")),)
        policy = policy.record_missed_premium(days(730), Money("10"))
        assert policy.missed_premiums[-1] == MissedPremium(days(730), Money("10"))

    def test_long_term_means_more_than_one_year(self) -> None:
        assert not make_policy(term_years=1).is_long_term
        assert make_policy(term_years=2).is_long_term

    @given(gen.policies("C1", "C2", ours=True))
    def test_purchases_of_our_policies_follow_activation(self, policy: Policy) -> None:
        activated = [c for c in policy.history if c.from_status is S.PENDING]
        if not activated:
            assert policy.purchases == ()
            return
        assert policy.purchases[0].kind is PurchaseKind.NEW
        assert policy.purchases[0].on == activated[0].on
        assert all(p.kind is PurchaseKind.RENEWAL for p in policy.purchases[1:])
        assert all(p.amount.currency == policy.currency for p in policy.purchases)

    @given(gen.policies("C1", "C2", ours=False))
    def test_holdings_elsewhere_never_purchase(self, policy: Policy) -> None:
        assert policy.purchases == ()
        assert policy.insurer is not None


# -- beneficiaries --------------------------------------------------------------------------------


def shares_from_cuts(cuts: list[int]) -> list[Decimal]:
    bounds = [0, *sorted(cuts), 10_000]
    return [Decimal(b - a).scaleb(-2) for a, b in itertools.pairwise(bounds)]


class TestBeneficiaries:
    @given(gen.policies("C1", "C2"))
    def test_generated_shares_add_up_to_100(self, policy: Policy) -> None:
        assert len(policy.beneficiaries) <= 3
        if policy.beneficiaries:
            assert sum(b.share for b in policy.beneficiaries) == 100
        for b in policy.beneficiaries:
            assert b.customer_id in {None, "C1", "C2"}
            assert b.customer_id is not None or b.name is not None

    @given(st.lists(st.integers(min_value=1, max_value=9_999), min_size=0, max_size=4, unique=True))
    def test_shares_adding_to_100_are_accepted(self, cuts: list[int]) -> None:
        people = [Beneficiary(s, name=PersonName("受益人")) for s in shares_from_cuts(cuts)]
        assert sum(b.share for b in make_policy(beneficiaries=people).beneficiaries) == 100

    @given(
        st.lists(st.integers(min_value=1, max_value=9_999), min_size=0, max_size=3, unique=True),
        st.integers(min_value=0, max_value=3),
        st.sampled_from([Decimal("0.01"), Decimal("-0.01"), Decimal("1"), Decimal("-5")]),
    )
    def test_shares_not_adding_to_100_are_refused(
        self, cuts: list[int], index: int, delta: Decimal
    ) -> None:
        shares = shares_from_cuts(cuts)
        i = index % len(shares)
        shares[i] += delta
        assume(0 < shares[i] <= 100)  # other shares are refused by the share rule (below)
        people = [Beneficiary(s, customer_id="C1") for s in shares]
        error = raised(make_policy, beneficiaries=people)
        assert (error.field, error.rule) == ("beneficiaries", "beneficiary.shares")

    def test_no_beneficiary_is_allowed(self) -> None:
        assert make_policy().beneficiaries == ()

    def test_examples(self) -> None:
        ok = [
            Beneficiary("33.33", customer_id="C2"),
            Beneficiary(Decimal("66.67"), name=None, customer_id="C1", relation="女儿"),
        ]
        assert make_policy(beneficiaries=ok).beneficiaries[0].share == Decimal("33.33")
        bad = [Beneficiary(50, customer_id="C2"), Beneficiary(40, customer_id="C1")]
        assert raised(make_policy, beneficiaries=bad).rule == "beneficiary.shares"

    @pytest.mark.parametrize(
        ("share", "rule"),
        [
            (0, "share.range"),
            (Decimal("-1"), "share.range"),
            (Decimal("100.01"), "share.range"),
            (Decimal("33.333"), "share.range"),
            (50.0, "share.type"),
            (Decimal("NaN"), "share.type"),
            ("abc", "share.type"),
            (None, "share.type"),
        ],
    )
    def test_bad_shares_are_refused(self, share: object, rule: str) -> None:
        error = raised(Beneficiary, share, customer_id="C1")
        assert (error.field, error.rule) == ("share", rule)

    def test_a_beneficiary_needs_an_id_or_a_name(self) -> None:
        error = raised(Beneficiary, Decimal(100))
        assert (error.field, error.rule) == ("customer_id", "beneficiary.who")
        assert Beneficiary(Decimal(100), erased=True).erased
        assert raised(Beneficiary, Decimal(100), customer_id="").rule == "id.format"

    def test_forget_beneficiary_touches_only_that_customer(self) -> None:
        other = Beneficiary(Decimal(60), name=PersonName("张小"), relation="女儿")
        policy = make_policy(
            beneficiaries=[
                Beneficiary(Decimal(40), customer_id="C2", name=PersonName("李四"), relation="妻"),
                other,
            ]
        )
        anonymous = policy.forget_beneficiary("C2").beneficiaries
        assert [(b.customer_id, b.name, b.relation, b.erased) for b in anonymous] == [
            ("C2", None, None, True),
            (None, other.name, "女儿", False),
        ]
        assert [b.share for b in anonymous] == [Decimal(40), Decimal(60)]

    def test_beneficiary_repr_is_masked(self) -> None:
        shown = repr(Beneficiary(Decimal(100), name=PersonName("欧阳娜娜"), relation="配偶"))
        assert "欧阳娜娜" not in shown
        assert "配偶" not in shown


# -- validation -----------------------------------------------------------------------------------


class TestPolicyValidation:
    @pytest.mark.parametrize(
        ("fields", "path", "rule"),
        [
            ({"sum_assured": Money(1, "USD")}, "annual_premium", "money.mixed"),
            ({"term_years": 0}, "term_years", "term.range"),
            ({"term_years": 201}, "term_years", "term.range"),
            ({"term_years": True}, "term_years", "term.range"),
            ({"term_years": 1.5}, "term_years", "term.range"),
            ({"id": ""}, "id", "id.format"),
            ({"number": "x" * 65}, "number", "id.format"),
            ({"policyholder_id": "a\x00"}, "policyholder_id", "id.format"),
            ({"insured_id": None}, "insured_id", "id.format"),
            ({"insurer": "  "}, "insurer", "text.required"),
            ({"campaign": ""}, "campaign", "text.required"),
            ({"annual_premium": Decimal("12")}, "annual_premium", "type"),
            ({"sum_assured": "500000"}, "sum_assured", "type"),
        ],
    )
    def test_bad_fields_are_refused(self, fields: dict[str, Any], path: str, rule: str) -> None:
        error = raised(make_policy, **fields)
        assert (error.field, error.rule) == (path, rule)

    def test_term_bounds_are_accepted(self) -> None:
        assert make_policy(term_years=1).term_years == 1
        assert make_policy(term_years=200).term_years == 200

    @given(st.data())
    def test_strategy_parameters_are_honoured(self, data: st.DataObject) -> None:
        until = dt.date(2021, 6, 30)
        policy = data.draw(
            gen.policies("C1", "C1", id="P-7", number="N-7", ours=True, until=until, currency="HKD")
        )
        assert (policy.id, policy.number, policy.insurer) == ("P-7", "N-7", None)
        assert policy.currency == "HKD"
        assert policy.start_date <= until
        assert all(c.on <= until for c in policy.history)
        assert all(p.on <= until for p in policy.purchases)
        assert all(m.due_date <= until for m in policy.missed_premiums)
        assert all(b.customer_id in {None, "C1"} for b in policy.beneficiaries)

    @given(st.sampled_from(PolicyStatus), st.booleans(), st.data())
    def test_walks_end_in_the_requested_status(
        self, status: PolicyStatus, ours: bool, data: st.DataObject
    ) -> None:
        until = dt.date(2022, 12, 31)
        policy = data.draw(gen.policies("C1", "C2", ours=ours, status=status, until=until))
        assert policy.status is status
        assert all(c.on <= until for c in policy.history)
        assert [c.to_status for c in policy.history[:-1]].count(PolicyStatus.CANCELLED) == 0


def test_a_renewal_cannot_be_backdated_into_a_lapse() -> None:
    policy = (
        make_policy()
        .activate(dt.date(2020, 1, 1))
        .lapse(dt.date(2021, 6, 1))
        .reinstate(dt.date(2022, 1, 1))
    )
    with pytest.raises(RuleViolation):
        policy.renew(dt.date(2021, 7, 1))
    assert policy.renew(dt.date(2022, 1, 1)).purchases[-1].on == dt.date(2022, 1, 1)


# -- renewals from a payment history (record_renewal) ----------------------------------------------


class TestRecordRenewal:
    def test_a_renewal_before_a_lapse_takes_its_place_in_date_order(self) -> None:
        policy = (
            make_policy()
            .activate(dt.date(2020, 1, 1))
            .renew(dt.date(2022, 1, 1))
            .lapse(dt.date(2022, 6, 1))
        )
        recorded = policy.record_renewal(dt.date(2021, 1, 1))
        assert [p.on for p in recorded.purchases] == [
            dt.date(2020, 1, 1),
            dt.date(2021, 1, 1),
            dt.date(2022, 1, 1),
        ]
        assert recorded.purchases[1] == Purchase(
            dt.date(2021, 1, 1), Money("1200.50"), PurchaseKind.RENEWAL
        )
        assert recorded.status is S.LAPSED  # the history is untouched

    def test_the_annual_premium_stays_the_current_one(self) -> None:
        policy = make_policy().activate(dt.date(2020, 1, 1))
        recorded = policy.record_renewal(dt.date(2021, 1, 1), Money("999.00"))
        assert recorded.purchases[-1].amount == Money("999.00")
        assert recorded.annual_premium == Money("1200.50")

    def test_only_a_day_the_policy_was_in_force_takes_a_renewal(self) -> None:
        policy = (
            make_policy()
            .activate(dt.date(2020, 1, 1))
            .lapse(dt.date(2021, 6, 1))
            .reinstate(dt.date(2022, 1, 1))
            .surrender(dt.date(2023, 1, 1))
        )
        for day in (dt.date(2019, 12, 31), dt.date(2021, 6, 1), dt.date(2021, 9, 1)):
            with pytest.raises(RuleViolation, match="not in force on that day"):
                policy.record_renewal(day)
        with pytest.raises(RuleViolation, match="not in force on that day"):
            policy.record_renewal(dt.date(2023, 1, 1))  # surrendered at the end of the day
        assert policy.record_renewal(dt.date(2022, 1, 1)).purchases[-1].on == dt.date(2022, 1, 1)

    def test_a_renewal_comes_after_the_new_policy_purchase(self) -> None:
        policy = make_policy().activate(dt.date(2020, 1, 1))
        with pytest.raises(RuleViolation, match="after the new-policy purchase"):
            policy.record_renewal(dt.date(2020, 1, 1))

    def test_another_insurers_policy_and_another_currency_are_refused(self) -> None:
        with pytest.raises(RuleViolation, match="only our policies' premiums"):
            make_policy(insurer="平安人寿").activate(DAY).record_renewal(days(400))
        error = raised(make_policy().activate(DAY).record_renewal, days(1), Money(5, "USD"))
        assert (error.field, error.rule) == ("premium", "money.mixed")

    @given(data=st.data())
    def test_recorded_or_refused_and_purchases_stay_in_date_order(
        self, data: st.DataObject
    ) -> None:
        """Totality: any day either adds exactly one renewal on that day, keeping the
        purchases in date order and everything else as it was, or is refused; it is
        refused exactly when the policy was not ours, not in force that day, or the day is
        not after its first purchase."""
        policy = data.draw(gen.policies("C1", "C2", until=dt.date(2025, 12, 31)))
        day = data.draw(st.dates(dt.date(1999, 1, 1), dt.date(2026, 12, 31)))
        allowed = (
            policy.is_ours
            and policy.status_on(day) is S.IN_FORCE
            and bool(policy.purchases)
            and day > policy.purchases[0].on
        )
        try:
            recorded = policy.record_renewal(day)
        except RuleViolation:
            assert not allowed
            return
        assert allowed
        assert len(recorded.purchases) == len(policy.purchases) + 1
        assert [p.on for p in recorded.purchases] == sorted(p.on for p in recorded.purchases)
        assert Purchase(day, policy.annual_premium, PurchaseKind.RENEWAL) in recorded.purchases
        assert attrs.evolve(recorded, purchases=policy.purchases) == policy

    @given(data=st.data())
    def test_on_the_latest_day_it_is_renew_without_the_premium_change(
        self, data: st.DataObject
    ) -> None:
        """A renewal recorded after every purchase and change of a policy in force is the
        purchase :meth:`Policy.renew` would make."""
        policy = data.draw(
            gen.policies("C1", "C2", ours=True, status=S.IN_FORCE, until=dt.date(2024, 12, 31))
        )
        latest = max([p.on for p in policy.purchases] + [c.on for c in policy.history])
        day = latest + dt.timedelta(days=data.draw(st.integers(1, 800)))
        premium = Money(data.draw(st.decimals(0, 10**6, places=2)), policy.currency)
        assert policy.record_renewal(day, premium).purchases == policy.renew(day, premium).purchases


class TestRecordUnpaidRenewal:
    def test_a_premium_missed_before_the_lapse_is_kept_in_due_date_order(self) -> None:
        policy = (
            make_policy()
            .activate(dt.date(2020, 1, 1))
            .record_missed_premium(dt.date(2022, 1, 1))
            .lapse(dt.date(2022, 3, 2))
        )
        recorded = policy.record_unpaid_renewal(dt.date(2021, 1, 1), Money("1000"))
        assert recorded.missed_premiums == (
            MissedPremium(dt.date(2021, 1, 1), Money("1000")),
            MissedPremium(dt.date(2022, 1, 1), Money("1200.50")),
        )
        assert recorded.status is S.LAPSED
        assert recorded.purchases == policy.purchases

    def test_its_due_date_is_checked_like_a_renewals_day(self) -> None:
        policy = make_policy().activate(dt.date(2020, 1, 1)).lapse(dt.date(2021, 3, 1))
        with pytest.raises(RuleViolation, match="not in force on that day"):
            policy.record_unpaid_renewal(dt.date(2021, 6, 1))
        with pytest.raises(RuleViolation, match="falls due after the new-policy purchase"):
            policy.record_unpaid_renewal(dt.date(2020, 1, 1))
        with pytest.raises(RuleViolation, match="only our policies"):
            make_policy(insurer="平安人寿").activate(DAY).record_unpaid_renewal(days(400))
        error = raised(policy.record_unpaid_renewal, dt.date(2021, 1, 1), Money(5, "USD"))
        assert (error.field, error.rule) == ("premium", "money.mixed")

    @given(data=st.data())
    def test_the_days_refused_are_those_a_renewal_is_refused_on(self, data: st.DataObject) -> None:
        policy = data.draw(gen.policies("C1", "C2", until=dt.date(2025, 12, 31)))
        day = data.draw(st.dates(dt.date(1999, 1, 1), dt.date(2026, 12, 31)))
        outcomes = []
        for record in (policy.record_renewal, policy.record_unpaid_renewal):
            try:
                record(day)
                outcomes.append(True)
            except RuleViolation:
                outcomes.append(False)
        assert outcomes[0] == outcomes[1]
