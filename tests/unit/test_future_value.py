"""Customer future value (客户将来的价值): the renewal history, the shifted-beta-geometric model
of Fader & Hardie (2007) and its fallback, and the expected premiums it gives."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from decimal import Decimal
from fractions import Fraction

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.dates import add_years
from insurcrm.domain.future_value import (
    RENEWAL_GAP_DAYS,
    FutureValueConfig,
    RenewalHistory,
    RenewalModel,
    RenewalModelKind,
    contracts,
    customer_future_value,
    flat_model,
    renewal_history,
    renewal_history_by_holder,
    sbg_log_likelihood,
    sbg_model,
    win_back_value,
)
from insurcrm.domain.policies import EndReason, Policy, PolicyStatus, ProductLine
from insurcrm.domain.values import Money
from insurcrm.errors import ValidationError
from insurcrm.testing import strategies as gen
from insurcrm.testing.contracts import make_policy

AS_OF = dt.date(2024, 3, 1)
FLAT = flat_model()
#: Fader & Hardie (2007), "How to project customer retention", the regular segment: customers
#: still renewing at the start of years 1–8, from a cohort of 1,000.
REGULAR_ALIVE = (1000, 631, 468, 382, 326, 289, 262, 241)


def regular_history() -> RenewalHistory:
    lost = tuple(a - b for a, b in itertools.pairwise(REGULAR_ALIVE))
    return RenewalHistory(lost, (0,) * 7 + (REGULAR_ALIVE[-1],))


def in_force(
    policy_id: str,
    on: dt.date,
    holder: str = "C1",
    *,
    term_years: int = 20,
    premium: str = "1234.56",
    insurer: str | None = None,
) -> Policy:
    """A policy of ``holder`` put in force on ``on``."""
    policy = make_policy(policy_id, holder, premium=premium, insurer=insurer)
    return attrs.evolve(policy, term_years=term_years).activate(on)


# -- the renewal history --------------------------------------------------------------------------


class TestRenewalHistory:
    def test_lost_and_renewing_contracts(self) -> None:
        policies = [
            in_force("A", dt.date(2020, 1, 1)),  # 4 renewals, still in force
            in_force("B", dt.date(2020, 1, 1)).lapse(dt.date(2021, 6, 1)),  # lost at renewal 2
            in_force("C", dt.date(2022, 5, 1)).surrender(dt.date(2022, 12, 1)),  # lost at 1
            in_force("D", dt.date(2019, 3, 1)).mature(dt.date(2023, 3, 1)),  # 4 renewals, ran out
            in_force("H", dt.date(2020, 1, 1))
            .lapse(dt.date(2021, 1, 1))
            .reinstate(dt.date(2021, 2, 1)),  # lost at its first lapse, at renewal 2
            # Cancelled for fraud: our decision, not a renewal one; censored after 0.
            in_force("I", dt.date(2023, 1, 1)).cancel(dt.date(2023, 6, 1), EndReason.FRAUD),
            in_force("J", dt.date(2022, 1, 1)).terminate_by_claim(dt.date(2023, 2, 1)),  # 1
            make_policy("E"),  # never in force
            in_force("F", dt.date(2020, 1, 1), insurer="平安人寿"),  # not ours
            in_force("G", dt.date(2024, 3, 2)),  # after the assessment date
        ]
        history = renewal_history(policies, AS_OF)
        assert history == RenewalHistory(lost=(1, 2), renewing=(1, 1, 0, 0, 2))
        assert history.contracts == 7
        assert history.renewal_years == 4

    def test_endings_after_the_assessment_date_are_not_known(self) -> None:
        lapsed = in_force("B", dt.date(2020, 1, 1)).lapse(dt.date(2024, 6, 1))
        assert renewal_history([lapsed], AS_OF) == RenewalHistory((), (0, 0, 0, 0, 1))

    def test_an_empty_history(self) -> None:
        history = renewal_history([], AS_OF)
        assert history == RenewalHistory()
        assert (history.contracts, history.renewal_years) == (0, 0)

    @given(st.data())
    def test_every_policy_of_ours_that_went_in_force_counts_once(self, data: st.DataObject) -> None:
        as_of = data.draw(st.dates(dt.date(2001, 1, 1), dt.date(2026, 12, 31)))
        holders = st.sampled_from(("C1", "C2"))
        policies = data.draw(
            st.lists(
                holders.flatmap(lambda c: gen.policies(c, c, until=as_of + dt.timedelta(days=500))),
                max_size=6,
            )
        )
        history = renewal_history(policies, as_of)
        started = [
            p
            for p in policies
            if p.is_ours
            and any(c.to_status is PolicyStatus.IN_FORCE and c.on <= as_of for c in p.history)
        ]
        chained = contracts(policies, as_of)
        # One-year policies renewed as new ones join their predecessor's contract.
        assert history.contracts == len(chained) <= len(started)
        assert sorted(p.id for _, p in chained) == sorted(
            p.id for p in started if not any(q is p for q in _renewed(started, as_of))
        )
        assert all(n >= 0 for n in (*history.lost, *history.renewing))
        gap = dt.timedelta(days=RENEWAL_GAP_DAYS)
        lost = 0
        for _, policy in chained:
            end = next(
                (
                    c
                    for c in policy.history
                    if c.from_status is PolicyStatus.IN_FORCE
                    and c.to_status is not PolicyStatus.IN_FORCE
                    and c.on <= as_of
                ),
                None,
            )
            if end is None:
                continue
            # A lapse, surrender or cancellation (not for fraud: that is ours) is a lost
            # contract, and so is a one-year contract that ran out and was not renewed in time.
            lost += (
                end.to_status
                in {PolicyStatus.LAPSED, PolicyStatus.SURRENDERED, PolicyStatus.CANCELLED}
                and end.reason is not EndReason.FRAUD
            ) or (
                end.to_status is PolicyStatus.MATURED
                and not policy.is_long_term
                and end.on + gap <= as_of
            )
        assert sum(history.lost) == lost

    @given(st.data())
    def test_a_history_read_by_holder_is_the_whole_books(self, data: st.DataObject) -> None:
        """Counted one batch of policyholders at a time (as the services read the book),
        the history is that of every policy at once, however the holders are batched and
        whatever the order of the batches and of the policies in each. The book has
        one-year policies renewed as new ones, by several holders on the same lines and
        days, so that a renewal chain joining two holders would show."""
        as_of = data.draw(st.dates(dt.date(2021, 6, 1), dt.date(2026, 12, 31)))
        holders = st.sampled_from(("C1", "C2", "C3", "C4"))
        others = st.lists(  # lapses, surrenders, reinstatements, other insurers' policies
            holders.flatmap(lambda c: gen.policies(c, c, until=as_of + dt.timedelta(days=500))),
            max_size=4,
        )
        policies = data.draw(renewal_chains(as_of)) + data.draw(others)
        ids = sorted({p.policyholder_id for p in policies})
        batch_of = {c: data.draw(st.integers(0, 2), label=f"batch of {c}") for c in ids}
        holdings = [
            data.draw(st.permutations([p for p in policies if batch_of[p.policyholder_id] == b]))
            for b in data.draw(st.permutations(range(3)))
        ]
        whole = renewal_history(policies, as_of)
        assert renewal_history_by_holder(holdings, as_of) == whole
        assert whole.contracts == len(contracts(policies, as_of))


@st.composite
def renewal_chains(draw: st.DrawFn, as_of: dt.date) -> list[Policy]:
    """Up to four holders' one-year policies, each holder's in chains on two lines, every
    chain starting within two months of 1 January 2021 and each policy within 40 days of
    its predecessor's maturity (a renewal when within :data:`RENEWAL_GAP_DAYS`); and a
    long-term policy or two."""
    policies: list[Policy] = []
    for chain in range(draw(st.integers(1, 6))):
        holder = draw(st.sampled_from(("C1", "C2", "C3", "C4")))
        line = draw(st.sampled_from((ProductLine.MEDICAL, ProductLine.ACCIDENT)))
        day = dt.date(2021, 1, 1) + dt.timedelta(days=draw(st.integers(0, 60)))
        for link in range(draw(st.integers(1, 4))):
            one = in_force(f"P{chain}-{link}", day, holder, term_years=1)
            one = attrs.evolve(one, product_line=line)
            matured = add_years(day, 1)
            if matured <= as_of:
                one = one.mature(matured)
            policies.append(one)
            day = matured + dt.timedelta(days=draw(st.integers(0, 40)))
    for n in range(draw(st.integers(0, 2))):
        policies.append(in_force(f"L{n}", dt.date(2021, 3, 1), draw(st.sampled_from(("C1", "C2")))))
    return policies


def _renewed(started: list[Policy], as_of: dt.date) -> list[Policy]:
    """The one-year policies another one renews (the same holder and line, starting within
    the gap of its maturity): they are not the latest policy of their contract."""
    gap = dt.timedelta(days=RENEWAL_GAP_DAYS)
    renewed = []
    for p in started:
        if p.is_long_term:
            continue
        matured = next(
            (c.on for c in p.history if c.to_status is PolicyStatus.MATURED and c.on <= as_of),
            None,
        )
        if matured is None:
            continue
        first = next(c.on for c in p.history if c.to_status is PolicyStatus.IN_FORCE)
        if any(
            q is not p
            and not q.is_long_term
            and (q.policyholder_id, q.product_line) == (p.policyholder_id, p.product_line)
            and (q_first := next(c.on for c in q.history if c.to_status is PolicyStatus.IN_FORCE))
            >= first
            and abs(q_first - matured) <= gap
            for q in started
        ):
            renewed.append(p)
    return renewed


# -- the sBG model --------------------------------------------------------------------------------


def sbg_by_recursion(alpha: float, beta: float, history: RenewalHistory) -> float:
    """Fader & Hardie (2007), equations (5) and (6): P(T = 1) = α / (α + β),
    P(T = t) = (β + t − 2) / (α + β + t − 1) · P(T = t − 1), S(t) = 1 − Σ P(T = j)."""
    horizon = max(len(history.lost), len(history.renewing)) + 1
    p = [0.0, alpha / (alpha + beta)]
    for t in range(2, horizon + 1):
        p.append((beta + t - 2) / (alpha + beta + t - 1) * p[t - 1])
    survival = [1.0]
    for t in range(1, horizon + 1):
        survival.append(survival[t - 1] - p[t])
    total = sum(n * math.log(p[t]) for t, n in enumerate(history.lost, start=1) if n)
    return total + sum(n * math.log(survival[t]) for t, n in enumerate(history.renewing) if n)


class TestLikelihood:
    def test_a_tiny_history_by_hand(self) -> None:
        """α = β = 1: P(T = t) = 1 / (t (t + 1)) and S(n) = 1 / (n + 1). Two contracts lost at
        the first renewal, one at the second, three renewed twice."""
        history = RenewalHistory(lost=(2, 1), renewing=(0, 0, 3))
        expected = 2 * math.log(1 / 2) + math.log(1 / 6) + 3 * math.log(1 / 3)
        assert sbg_log_likelihood(1.0, 1.0, history) == pytest.approx(expected, rel=1e-12)

    def test_another_tiny_history_by_hand(self) -> None:
        """α = 2, β = 3: P(T = 1) = 2/5, P(T = 2) = 3/5 · 2/6 = 1/5, S(1) = 3/5, S(2) = 2/5."""
        history = RenewalHistory(lost=(4, 1), renewing=(7, 2, 5))
        expected = 4 * math.log(2 / 5) + math.log(1 / 5) + 2 * math.log(3 / 5) + 5 * math.log(2 / 5)
        assert sbg_log_likelihood(2.0, 3.0, history) == pytest.approx(expected, rel=1e-12)

    def test_an_empty_history_is_certain(self) -> None:
        assert sbg_log_likelihood(0.5, 2.0, RenewalHistory()) == 0.0

    @given(
        st.floats(min_value=0.05, max_value=20),
        st.floats(min_value=0.05, max_value=20),
        st.lists(st.integers(min_value=0, max_value=50), max_size=8),
        st.lists(st.integers(min_value=0, max_value=50), max_size=9),
    )
    def test_the_likelihood_matches_the_recursion(
        self, alpha: float, beta: float, lost: list[int], renewing: list[int]
    ) -> None:
        history = RenewalHistory(tuple(lost), tuple(renewing))
        value = sbg_log_likelihood(alpha, beta, history)
        assert value <= 0.0
        assert value == pytest.approx(sbg_by_recursion(alpha, beta, history), rel=1e-6, abs=1e-6)

    def test_fader_and_hardie_regular_segment(self) -> None:
        """The published fit of the regular customers: α ≈ 0.704, β ≈ 1.182."""
        optimize = pytest.importorskip("scipy.optimize")
        history = regular_history()
        assert (history.contracts, history.renewal_years) == (1000, 7)

        def minus(x: list[float]) -> float:
            return -sbg_log_likelihood(math.exp(x[0]), math.exp(x[1]), history)

        fit = optimize.minimize(minus, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-8})
        alpha, beta = math.exp(fit.x[0]), math.exp(fit.x[1])
        assert alpha == pytest.approx(0.704, abs=0.002)
        assert beta == pytest.approx(1.182, abs=0.002)
        at_published = sbg_log_likelihood(0.704, 1.182, history)
        assert -fit.fun >= at_published >= -fit.fun - 0.01
        model = sbg_model(alpha, beta, "fitted")
        for year, alive in enumerate(REGULAR_ALIVE):
            assert 1000 * model.survival(year) == pytest.approx(alive, abs=10)

    def test_the_published_parameters_beat_their_neighbours(self) -> None:
        """Without scipy: the likelihood is highest at (0.704, 1.182) among nearby points."""
        history = regular_history()
        best = sbg_log_likelihood(0.704, 1.182, history)
        for da in (-0.02, 0.0, 0.02):
            for db in (-0.05, 0.0, 0.05):
                if da or db:
                    assert sbg_log_likelihood(0.704 + da, 1.182 + db, history) < best


class TestModels:
    def test_sbg_survival_and_retention(self) -> None:
        model = sbg_model(1.0, 1.0, "test")
        assert model.kind is RenewalModelKind.SHIFTED_BETA_GEOMETRIC
        assert [model.survival(n) for n in range(4)] == pytest.approx([1, 1 / 2, 1 / 3, 1 / 4])
        # retention rises with tenure: r(n) = (β + n) / (α + β + n)
        assert [model.retention_after(n) for n in range(3)] == pytest.approx([1 / 2, 2 / 3, 3 / 4])
        assert model.survival(-1) == 1.0

    def test_flat_model(self) -> None:
        assert FLAT.kind is RenewalModelKind.FLAT_RETENTION
        assert FLAT.retention == Decimal("0.85")
        assert (FLAT.alpha, FLAT.beta) == (None, None)
        assert FLAT.survival(3) == pytest.approx(0.85**3)
        assert FLAT.retention_after(7) == pytest.approx(0.85)
        assert FLAT.reason == "using the configured retention rate 85 % a year"
        short = flat_model(
            FutureValueConfig(fallback_retention=Decimal("0.9")), "only 12 contracts"
        )
        assert short.reason == "only 12 contracts; using the configured retention rate 90 % a year"

    def test_zero_retention_keeps_nobody(self) -> None:
        model = flat_model(FutureValueConfig(fallback_retention=Decimal(0)))
        assert (model.survival(1), model.retention_after(1)) == (0.0, 0.0)

    @pytest.mark.parametrize(
        ("alpha", "beta", "field"),
        [
            (0.0, 1.0, "alpha"),
            (-1.0, 1.0, "alpha"),
            (math.nan, 1.0, "alpha"),
            (1.0, math.inf, "beta"),
            (1.0, "2", "beta"),
            (True, 1.0, "alpha"),
        ],
    )
    def test_bad_parameters_are_refused(self, alpha: object, beta: object, field: str) -> None:
        with pytest.raises(ValidationError) as caught:
            sbg_model(alpha, beta, "x")  # type: ignore[arg-type]
        assert caught.value.field == field

    def test_whole_numbers_are_parameters_too(self) -> None:
        """``sbg_model(1, 2, …)`` is sBG(1.0, 2.0), as its float annotation allows."""
        model = sbg_model(1, 2, "whole")
        assert (model.alpha, model.beta) == (1.0, 2.0)
        assert model.survival(1) == pytest.approx(2 / 3)

    @given(
        st.floats(min_value=0.01, max_value=100),
        st.floats(min_value=0.01, max_value=100),
        st.integers(min_value=0, max_value=60),
    )
    def test_sbg_survival_is_a_falling_probability(self, alpha: float, beta: float, n: int) -> None:
        model = sbg_model(alpha, beta, "")
        here, there = model.survival(n), model.survival(n + 1)
        assert 0.0 <= there <= here <= 1.0
        assert here == pytest.approx(math.prod((beta + i) / (alpha + beta + i) for i in range(n)))
        # the less loyal leave first: retention never falls with tenure
        assert model.retention_after(n + 1) >= model.retention_after(n) - 1e-12


# -- future value ---------------------------------------------------------------------------------


def flat_factor(renewals_left: int, retention: Fraction = Fraction(85, 100)) -> Fraction:
    """Σ retention^k / 1.03^(k − 1) for k = 1 … renewals_left (premiums after this year)."""
    return sum(
        (retention**k / Fraction(103, 100) ** (k - 1) for k in range(1, renewals_left + 1)),
        Fraction(0),
    )


def near(amount: Decimal, exact: Fraction, cents: int = 1) -> bool:
    return abs(Fraction(amount) - exact) <= Fraction(cents, 100)


class TestCustomerFutureValue:
    def test_five_premiums_discounted_at_the_flat_rate(self) -> None:
        policy = in_force("P1", dt.date(2022, 3, 1), premium="10000.00")
        value = customer_future_value("C1", [policy], AS_OF, FLAT)
        assert value.amount.currency == "CNY"
        assert near(value.amount.amount, 10_000 * flat_factor(5))
        assert value.amount.amount == Decimal("30022.64")
        assert value.horizon_years == 5
        assert value.model is FLAT
        assert value.reasons == (
            "policy N-P1: ¥10,000.00 a year × 3.002 expected after 2 renewals = ¥30,022.64",
            "model: FLAT_RETENTION (using the configured retention rate 85 % a year)",
        )

    def test_a_long_term_policy_pays_nothing_after_its_term(self) -> None:
        policy = in_force("P1", dt.date(2023, 3, 1), premium="10000.00", term_years=3)
        value = customer_future_value("C1", [policy], AS_OF, FLAT)
        assert value.amount == Money("8500.00")  # one premium left, 85 % likely
        ended = in_force("P2", dt.date(2021, 3, 1), premium="10000.00", term_years=3)
        assert customer_future_value("C1", [ended], AS_OF, FLAT).amount == Money("0.00")

    def test_a_short_term_policy_renews_every_year(self) -> None:
        policy = in_force("P1", dt.date(2015, 3, 1), premium="1000.00", term_years=1)
        value = customer_future_value("C1", [policy], AS_OF, FLAT)
        assert near(value.amount.amount, 1_000 * flat_factor(5))

    def test_only_this_customers_policies_of_ours_in_force_count(self) -> None:
        mine = in_force("P1", dt.date(2022, 3, 1), premium="10000.00")
        others = [
            in_force("P2", dt.date(2022, 3, 1), holder="C2"),
            in_force("P3", dt.date(2022, 3, 1), insurer="平安人寿"),
            in_force("P4", dt.date(2022, 3, 1)).lapse(dt.date(2023, 1, 1)),
            make_policy("P5"),
            in_force("P6", dt.date(2024, 3, 2)),
        ]
        alone = customer_future_value("C1", [mine], AS_OF, FLAT)
        assert customer_future_value("C1", [mine, *others], AS_OF, FLAT).amount == alone.amount
        assert customer_future_value("C9", [mine], AS_OF, FLAT).amount == Money("0.00")

    def test_other_currencies_are_valued_apart(self) -> None:
        usd = in_force(
            "P1", dt.date(2022, 3, 1), premium="100.00"
        )  # make_policy is CNY: rebuild it in USD
        usd = attrs.evolve(
            usd,
            sum_assured=Money("10000.00", "USD"),
            annual_premium=Money("100.00", "USD"),
        )
        assert customer_future_value("C1", [usd], AS_OF, FLAT).amount == Money("0.00")
        in_usd = customer_future_value("C1", [usd], AS_OF, FLAT, currency="USD").amount
        assert in_usd.currency == "USD"
        assert near(in_usd.amount, 100 * flat_factor(5))

    def test_the_sbg_model_values_by_tenure(self) -> None:
        """With sBG(1, 1) a contract that made n renewals makes the next with (n + 1) / (n + 2)."""
        model = sbg_model(1.0, 1.0, "test")
        policy = in_force("P1", dt.date(2022, 3, 1), premium="10000.00")
        value = customer_future_value("C1", [policy], AS_OF, model)
        # S(2 + k) / S(2) = 3 / (3 + k)
        exact = sum(
            (Fraction(3, 3 + k) / Fraction(103, 100) ** (k - 1) for k in range(1, 6)), Fraction(0)
        )
        assert near(value.amount.amount, 10_000 * exact)
        assert value.reasons[-1] == "model: SHIFTED_BETA_GEOMETRIC (test)"

    def test_no_discount_and_full_retention_is_the_premium_times_the_horizon(self) -> None:
        config = FutureValueConfig(
            horizon_years=7, discount_rate=Decimal(0), fallback_retention=Decimal(1)
        )
        policy = in_force("P1", dt.date(2022, 3, 1), premium="1234.56")
        value = customer_future_value("C1", [policy], AS_OF, flat_model(config), config)
        assert value.amount == Money("8641.92")

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"horizon_years": 0}, "horizon_years"),
            ({"discount_rate": Decimal("-0.01")}, "discount_rate"),
            ({"discount_rate": 0.03}, "discount_rate"),
            ({"fallback_retention": Decimal("1.1")}, "fallback_retention"),
            ({"min_renewal_years": 0}, "min_renewal_years"),
            ({"min_contracts": 0}, "min_contracts"),
        ],
    )
    def test_a_bad_config_is_refused(self, kwargs: dict[str, object], field: str) -> None:
        with pytest.raises(ValidationError) as caught:
            FutureValueConfig(**kwargs)  # type: ignore[arg-type]
        assert caught.value.field == field


class TestWinBackValue:
    def test_the_lost_premium_as_a_new_contract(self) -> None:
        """The first premium at once, then one a year while renewed."""
        lapsed = in_force("P1", dt.date(2020, 3, 1), premium="10000.00").lapse(dt.date(2024, 1, 1))
        value = win_back_value("C1", [lapsed], dt.date(2024, 1, 1), FLAT)
        exact = 10_000 * (1 + flat_factor(4) / Fraction(103, 100))
        assert near(value.amount.amount, exact)
        assert value.amount.amount == Decimal("35320.75")
        assert value.reasons[0] == (
            "lost premium ¥10,000.00 a year × 3.532 expected as a new contract = ¥35,320.75"
        )

    def test_only_policies_in_force_the_day_before_count(self) -> None:
        lapsed = in_force("P1", dt.date(2020, 3, 1), premium="1000.00").lapse(dt.date(2024, 1, 1))
        earlier = in_force("P2", dt.date(2020, 3, 1), premium="5000.00").lapse(dt.date(2023, 1, 1))
        theirs = in_force("P3", dt.date(2020, 3, 1), premium="5000.00", insurer="平安人寿")
        value = win_back_value("C1", [lapsed, earlier, theirs], dt.date(2024, 1, 1), FLAT)
        alone = win_back_value("C1", [lapsed], dt.date(2024, 1, 1), FLAT)
        assert value.amount == alone.amount
        assert win_back_value("C1", [], dt.date(2024, 1, 1), FLAT).amount == Money("0.00")


# -- properties -----------------------------------------------------------------------------------

MODELS = st.one_of(
    st.just(FLAT),
    st.builds(
        flat_model,
        st.builds(FutureValueConfig, fallback_retention=gen.money(0, 1).map(lambda m: m.amount)),
    ),
    st.builds(
        sbg_model,
        st.floats(min_value=0.05, max_value=20),
        st.floats(min_value=0.05, max_value=20),
        st.just("generated"),
    ),
)
CONFIGS = st.builds(
    FutureValueConfig,
    horizon_years=st.integers(min_value=1, max_value=10),
    discount_rate=gen.money(0, "0.2").map(lambda m: m.amount),
)


def with_premium(policy: Policy, premium: Money) -> Policy:
    return attrs.evolve(
        policy,
        annual_premium=premium,
        sum_assured=Money(policy.sum_assured.amount, premium.currency),
    )


class TestProperties:
    @given(
        st.data(),
        MODELS,
        CONFIGS,
        gen.money(0, 100_000),
        gen.money(0, 100_000),
    )
    def test_future_value_is_monotone_in_premium(
        self,
        data: st.DataObject,
        model: RenewalModel,
        config: FutureValueConfig,
        first: Money,
        second: Money,
    ) -> None:
        low, high = sorted((first, second), key=lambda m: m.amount)
        as_of = data.draw(st.dates(dt.date(2001, 1, 1), dt.date(2026, 12, 31)))
        policy = data.draw(gen.policies("C1", "C1", ours=True, until=as_of))
        cheap = customer_future_value("C1", [with_premium(policy, low)], as_of, model, config)
        dear = customer_future_value("C1", [with_premium(policy, high)], as_of, model, config)
        assert Decimal(0) <= cheap.amount.amount <= dear.amount.amount
        assert dear.amount.amount <= high.amount * config.horizon_years
        churned_on = data.draw(st.dates(dt.date(2001, 1, 1), dt.date(2026, 12, 31)))
        back_low = win_back_value("C1", [with_premium(policy, low)], churned_on, model, config)
        back_high = win_back_value("C1", [with_premium(policy, high)], churned_on, model, config)
        assert Decimal(0) <= back_low.amount.amount <= back_high.amount.amount
        assert back_high.amount.amount <= high.amount * config.horizon_years

    @given(st.data(), CONFIGS, gen.money(0, 1), gen.money(0, 1))
    def test_a_higher_retention_never_lowers_the_value(
        self, data: st.DataObject, config: FutureValueConfig, first: Money, second: Money
    ) -> None:
        low, high = sorted((first.amount, second.amount))
        as_of = data.draw(st.dates(dt.date(2001, 1, 1), dt.date(2026, 12, 31)))
        policies = data.draw(st.lists(gen.policies("C1", "C1", ours=True, until=as_of), max_size=3))
        worse = flat_model(attrs.evolve(config, fallback_retention=low))
        better = flat_model(attrs.evolve(config, fallback_retention=high))
        assert (
            customer_future_value("C1", policies, as_of, worse, config).amount.amount
            <= customer_future_value("C1", policies, as_of, better, config).amount.amount
        )
