"""Churn (客户流失, DOMAIN.md §7.1): churn records, automatic churn, churn and retention rates."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import attrs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from insurcrm.domain.churn import (
    ChurnCause,
    ChurnRates,
    ChurnRecord,
    ChurnStructure,
    churn_id,
    churn_on,
    churn_rates,
    customers_in_force,
)
from insurcrm.domain.events import CustomerChurned, CustomerWonBack
from insurcrm.domain.policies import EndReason, Policy, PolicyStatus
from insurcrm.errors import RuleViolation, ValidationError
from insurcrm.testing import strategies as gen
from insurcrm.testing.contracts import make_policy

DAY = dt.date(2024, 3, 1)
START = dt.date(2024, 1, 1)
END = dt.date(2024, 12, 31)
#: Personal text that must never show in a repr.
NOTES = "张伟说平安的业务员给了他 13812345678 的号码"


def in_force(policy_id: str = "P1", holder: str = "C1", on: dt.date = START) -> Policy:
    return make_policy(policy_id, holder).activate(on)


# -- records --------------------------------------------------------------------------------------


class TestChurnRecord:
    def test_record_keeps_date_structure_causes_and_notes(self) -> None:
        record = ChurnRecord.record(
            "C1",
            DAY,
            ChurnStructure.PULLED_AWAY,
            [ChurnCause.AGENT_LEFT, ChurnCause.PRICE],
            NOTES,
        )
        assert (record.customer_id, record.on, record.structure) == (
            "C1",
            DAY,
            ChurnStructure.PULLED_AWAY,
        )
        assert record.notes == NOTES
        assert record.is_open
        assert not record.automatic
        assert (record.version, record.erased, record.won_back_on) == (0, False, None)

    def test_the_id_is_stable_and_short(self) -> None:
        """Recording the same churn twice gives the same id (refused as a duplicate)."""
        record = ChurnRecord.record("C1", DAY)
        assert record.id == churn_id("C1", DAY) == ChurnRecord.record("C1", DAY).id
        assert re.fullmatch(r"CH-[0-9a-f]{20}", record.id)
        assert churn_id("C1", DAY) != churn_id("C1", DAY + dt.timedelta(days=1))
        assert churn_id("C1", DAY) != churn_id("C2", DAY)
        assert ChurnRecord.record("C1", DAY, id="MY-ID").id == "MY-ID"

    def test_record_raises_customer_churned(self) -> None:
        record = ChurnRecord.record(
            "C1", DAY, ChurnStructure.MIGRATED, automatic=True, policy_id="P9"
        )
        assert record.events == (CustomerChurned("C1", DAY, record.id, "MIGRATED", True),)
        unanalysed = ChurnRecord.record("C1", DAY)
        assert unanalysed.events == (CustomerChurned("C1", DAY, unanalysed.id, None, False),)

    def test_causes_are_kept_in_declaration_order_without_repeats(self) -> None:
        record = ChurnRecord.record(
            "C1", DAY, causes=[ChurnCause.PRICE, ChurnCause.CORE_SERVICE_FAILURE, ChurnCause.PRICE]
        )
        assert record.causes == (ChurnCause.CORE_SERVICE_FAILURE, ChurnCause.PRICE)

    def test_every_course_cause_and_structure_has_a_chinese_label(self) -> None:
        assert ChurnStructure.INTENTIONALLY_PUSHED_AWAY.label_zh == "有意推走"
        assert ChurnStructure.UNINTENTIONALLY_PUSHED_AWAY.label_zh == "无意推走"
        assert ChurnStructure.BOUGHT_OFF.label_zh == "被收买"
        assert ChurnStructure.PULLED_AWAY.label_zh == "被拉走"
        assert ChurnStructure.MIGRATED.label_zh == "迁移"
        assert ChurnCause.AGENT_LEFT.label_zh == "代理人跳槽带走客户"
        assert len(ChurnStructure) == 5
        assert all(c.label_zh for c in ChurnCause)

    @pytest.mark.parametrize(
        ("kwargs", "field"),
        [
            ({"id": ""}, "id"),
            ({"customer_id": "a\nb"}, "customer_id"),
            ({"customer_id": "x" * 65}, "customer_id"),
            ({"on": dt.datetime(2024, 3, 1, 12, 0)}, "on"),
            ({"on": "2024-03-01"}, "on"),
            ({"causes": ["PRICE"]}, "causes[0]"),
            ({"causes": [ChurnCause.PRICE, ChurnStructure.MIGRATED]}, "causes[1]"),
            ({"notes": "bad\x00text"}, "notes"),
            ({"notes": "lone \ud800"}, "notes"),
            ({"policy_id": " "}, "policy_id"),
            ({"won_back_on": DAY - dt.timedelta(days=1)}, "won_back_on"),
            ({"erased": True, "notes": "still here"}, "notes"),
        ],
    )
    def test_bad_input_is_refused_naming_the_field(
        self, kwargs: dict[str, object], field: str
    ) -> None:
        base: dict[str, object] = {"id": "CH-1", "customer_id": "C1", "on": DAY}
        with pytest.raises(ValidationError) as caught:
            ChurnRecord(**{**base, **kwargs})  # type: ignore[arg-type]
        assert caught.value.field == field

    def test_the_error_never_echoes_the_notes(self) -> None:
        with pytest.raises(ValidationError) as caught:
            ChurnRecord("CH-1", "C1", DAY, notes="张伟 13812345678\x00")
        assert "13812345678" not in str(caught.value)

    def test_a_bad_structure_is_refused(self) -> None:
        with pytest.raises(TypeError):
            ChurnRecord("CH-1", "C1", DAY, structure="MIGRATED")  # type: ignore[arg-type]

    def test_dropped_on_purpose(self) -> None:
        """Pushed away on purpose, or for fraud or malicious arrears: never won back."""
        assert ChurnRecord.record(
            "C1", DAY, ChurnStructure.INTENTIONALLY_PUSHED_AWAY
        ).dropped_on_purpose
        assert ChurnRecord.record("C1", DAY, causes=[ChurnCause.FRAUD]).dropped_on_purpose
        assert ChurnRecord.record(
            "C1", DAY, ChurnStructure.MIGRATED, [ChurnCause.MALICIOUS_ARREARS]
        ).dropped_on_purpose
        for structure in (
            *(s for s in ChurnStructure if s.name != "INTENTIONALLY_PUSHED_AWAY"),
            None,
        ):
            assert not ChurnRecord.record(
                "C1", DAY, structure, [ChurnCause.PRICE]
            ).dropped_on_purpose


class TestAnalysisAndWinBack:
    def test_analysed_sets_structure_and_causes_and_keeps_notes(self) -> None:
        record = ChurnRecord.record("C1", DAY, notes=NOTES, automatic=True, policy_id="P1")
        done = record.analysed(ChurnStructure.BOUGHT_OFF, [ChurnCause.COMPETITION])
        assert (done.structure, done.causes, done.notes) == (
            ChurnStructure.BOUGHT_OFF,
            (ChurnCause.COMPETITION,),
            NOTES,
        )
        assert (done.id, done.on, done.automatic, done.policy_id) == (record.id, DAY, True, "P1")
        assert done.analysed(ChurnStructure.BOUGHT_OFF, (), "新的备注").notes == "新的备注"

    def test_an_erased_record_takes_no_new_notes(self) -> None:
        erased = ChurnRecord.record("C1", DAY, notes=NOTES).erase()
        with pytest.raises(RuleViolation, match="erased"):
            erased.analysed(ChurnStructure.MIGRATED, (), "again")
        again = erased.analysed(ChurnStructure.MIGRATED, [ChurnCause.INVOLUNTARY])
        assert (again.notes, again.erased, again.structure) == (None, True, ChurnStructure.MIGRATED)

    def test_won_back_closes_the_record_with_an_event(self) -> None:
        record = ChurnRecord.record("C1", DAY)
        back = record.won_back(DAY + dt.timedelta(days=40))
        assert not back.is_open
        assert back.won_back_on == DAY + dt.timedelta(days=40)
        assert back.events[-1] == CustomerWonBack("C1", back.won_back_on, record.id)
        assert record.won_back(DAY).won_back_on == DAY

    @given(churned=st.integers(0, 30), back=st.integers(0, 30) | st.none(), day=st.integers(-5, 65))
    def test_a_record_is_open_from_the_churn_until_the_win_back(
        self, churned: int, back: int | None, day: int
    ) -> None:
        on = DAY + dt.timedelta(days=churned)
        record = ChurnRecord.record("C1", on)
        if back is not None:
            record = record.won_back(on + dt.timedelta(days=back))
        when = DAY + dt.timedelta(days=day)
        still = back is None or day < churned + back
        assert record.open_on(when) == (day >= churned and still)
        assert record.open_on(on) == (back != 0)  # won back the day it churned: never open

    @given(
        spans=st.lists(
            st.tuples(st.integers(0, 30), st.integers(0, 30) | st.none()), min_size=2, max_size=2
        )
    )
    def test_two_records_are_open_together_when_a_day_has_both_open(
        self, spans: list[tuple[int, int | None]]
    ) -> None:
        """open_with is symmetric and true exactly when some day has both open (every day
        either could be open on lies within the 61 days checked, or for good after)."""
        records = []
        for n, (churned, back) in enumerate(spans):
            record = ChurnRecord(f"K{n}", "C1", DAY + dt.timedelta(days=churned))
            if back is not None:
                record = record.won_back(record.on + dt.timedelta(days=back))
            records.append(record)
        first, second = records
        days = [DAY + dt.timedelta(days=d) for d in range(62)]
        together = any(first.open_on(d) and second.open_on(d) for d in days)
        assert first.open_with(second) == second.open_with(first) == together

    def test_a_record_is_won_back_once(self) -> None:
        back = ChurnRecord.record("C1", DAY).won_back(DAY)
        with pytest.raises(RuleViolation, match="already won back"):
            back.won_back(DAY + dt.timedelta(days=1))

    def test_a_win_back_cannot_predate_the_churn(self) -> None:
        with pytest.raises(RuleViolation, match="predate"):
            ChurnRecord.record("C1", DAY).won_back(DAY - dt.timedelta(days=1))


class TestErasureAndRepr:
    def test_erase_keeps_no_notes_but_keeps_the_figures(self) -> None:
        record = ChurnRecord.record(
            "C1", DAY, ChurnStructure.PULLED_AWAY, [ChurnCause.PRICE], NOTES
        ).won_back(END)
        erased = record.erase()
        assert erased.notes is None
        assert erased.erased
        assert (erased.id, erased.customer_id, erased.on, erased.won_back_on) == (
            record.id,
            "C1",
            DAY,
            END,
        )
        assert (erased.structure, erased.causes) == (record.structure, record.causes)
        assert NOTES not in repr(erased)
        assert churn_rates(START, END, ["C1"], [erased]) == churn_rates(
            START, END, ["C1"], [record]
        )

    def test_repr_masks_the_notes(self) -> None:
        record = ChurnRecord.record("C1", DAY, notes=NOTES)
        shown = repr(record)
        assert NOTES not in shown
        assert "13812345678" not in shown
        assert "notes='***'" in shown

    @given(gen.churn_records(), gen.texts())
    def test_repr_never_depends_on_the_notes(self, record: ChurnRecord, other: str) -> None:
        assert repr(record) == repr(
            attrs.evolve(record, notes=other if record.notes is not None else None)
        )
        assert repr(record.erase()) == repr(attrs.evolve(record, notes=None, erased=True))

    @given(gen.churn_records())
    def test_erase_keeps_dates_structure_and_causes(self, record: ChurnRecord) -> None:
        erased = record.erase()
        assert erased.notes is None
        assert erased.erased
        assert attrs.evolve(erased, notes=record.notes, erased=False) == record
        assert erased.erase() == erased


# -- automatic churn ------------------------------------------------------------------------------


class TestChurnOn:
    def test_the_last_policy_lapsing_is_a_churn_on_that_day(self) -> None:
        lapsed = in_force().lapse(dt.date(2024, 5, 1))
        record = churn_on("C1", [lapsed], DAY.replace(month=6))
        assert record is not None
        assert (record.on, record.automatic, record.policy_id) == (dt.date(2024, 5, 1), True, "P1")
        assert (record.structure, record.causes) == (None, ())
        assert record.id == churn_id("C1", dt.date(2024, 5, 1))
        assert record.events == (CustomerChurned("C1", record.on, record.id, None, True),)

    def test_no_churn_while_a_policy_is_in_force(self) -> None:
        lapsed = in_force("P1").lapse(dt.date(2024, 5, 1))
        assert churn_on("C1", [lapsed, in_force("P2")], dt.date(2024, 6, 1)) is None

    def test_no_churn_before_the_ending(self) -> None:
        lapsed = in_force().lapse(dt.date(2024, 5, 1))
        assert churn_on("C1", [lapsed], dt.date(2024, 4, 30)) is None

    def test_a_prospect_never_churns(self) -> None:
        assert churn_on("C1", [], DAY) is None
        assert churn_on("C1", [make_policy()], DAY) is None

    def test_the_churn_day_is_the_last_ending(self) -> None:
        first = in_force("P1").surrender(dt.date(2024, 2, 1))
        last = in_force("P2").lapse(dt.date(2024, 4, 1))
        record = churn_on("C1", [last, first], dt.date(2024, 6, 1))
        assert record is not None
        assert (record.on, record.policy_id) == (dt.date(2024, 4, 1), "P2")

    def test_fraud_is_pushed_away_on_purpose(self) -> None:
        cancelled = in_force().cancel(dt.date(2024, 5, 1), EndReason.FRAUD)
        record = churn_on("C1", [cancelled], dt.date(2024, 6, 1))
        assert record is not None
        assert (record.structure, record.causes) == (
            ChurnStructure.INTENTIONALLY_PUSHED_AWAY,
            (ChurnCause.FRAUD,),
        )
        assert record.dropped_on_purpose

    def test_a_claim_ending_the_last_policy_is_migration(self) -> None:
        """The need ended: MIGRATED, involuntary."""
        claimed = in_force().terminate_by_claim(dt.date(2024, 5, 1))
        record = churn_on("C1", [claimed], dt.date(2024, 6, 1))
        assert record is not None
        assert (record.structure, record.causes) == (
            ChurnStructure.MIGRATED,
            (ChurnCause.INVOLUNTARY,),
        )

    def test_other_insurers_and_other_holders_do_not_count(self) -> None:
        lapsed = in_force().lapse(dt.date(2024, 5, 1))
        theirs = make_policy("P2", insurer="平安人寿").activate(START)
        someone_else = in_force("P3", holder="C2")
        assert churn_on("C1", [lapsed, theirs, someone_else], dt.date(2024, 6, 1)) is not None

    def test_a_reinstated_policy_is_no_churn(self) -> None:
        back = in_force().lapse(dt.date(2024, 2, 1)).reinstate(dt.date(2024, 3, 1))
        assert churn_on("C1", [back], dt.date(2024, 6, 1)) is None

    @given(st.data())
    def test_churn_on_generated_policies(self, data: st.DataObject) -> None:
        """A churn is found exactly when the customer had a policy of ours in force and has
        none now; it is dated on an ending, no later than the assessment date."""
        as_of = data.draw(st.dates(dt.date(2001, 1, 1), dt.date(2026, 12, 31)))
        policies = data.draw(
            st.lists(gen.policies("C1", "C1", until=as_of, max_steps=5), max_size=3)
        )
        record = churn_on("C1", policies, as_of)
        ours = [p for p in policies if p.is_ours]
        ever = any(
            c.to_status is PolicyStatus.IN_FORCE and c.on <= as_of for p in ours for c in p.history
        )
        now = "C1" in customers_in_force(policies, as_of)
        assert (record is not None) == (ever and not now)
        if record is not None:
            assert record.on <= as_of
            assert record.automatic
            assert any(p.id == record.policy_id for p in ours)
            assert record.id == churn_id("C1", record.on)


class TestCustomersInForce:
    def test_policyholders_with_a_policy_of_ours_in_force(self) -> None:
        policies = [
            in_force("P1", "C1"),
            in_force("P2", "C2").lapse(dt.date(2024, 2, 1)),
            make_policy("P3", "C3"),
            make_policy("P4", "C4", insurer="友邦 AIA").activate(START),
            in_force("P5", "C5", on=dt.date(2024, 5, 1)),
        ]
        assert customers_in_force(policies, DAY) == {"C1"}
        assert customers_in_force(policies, dt.date(2024, 1, 31)) == {"C1", "C2"}
        assert customers_in_force(policies, dt.date(2024, 5, 1)) == {"C1", "C5"}


# -- rates ----------------------------------------------------------------------------------------


def churned(customer_id: str, on: dt.date) -> ChurnRecord:
    return ChurnRecord.record(customer_id, on)


class TestChurnRates:
    def test_churn_rate_is_churned_over_customers_at_the_start(self) -> None:
        """200 customers at the start, 30 of them churned: 15 % churn, 85 % retention."""
        base = [f"C{i}" for i in range(200)]
        records = [churned(f"C{i}", dt.date(2024, 6, 1)) for i in range(30)]
        rates = churn_rates(START, END, base, records)
        assert rates == ChurnRates(START, END, 200, 30)
        assert rates.churn_rate == Decimal("15.00")
        assert rates.retention_rate == Decimal("85.00")
        assert rates.reasons == (
            "30 of the 200 customers in force on 2024-01-01 churned by 2024-12-31",
        )

    def test_rates_have_two_places(self) -> None:
        rates = churn_rates(START, END, ["C1", "C2", "C3"], [churned("C1", DAY)])
        assert (rates.churn_rate, rates.retention_rate) == (Decimal("33.33"), Decimal("66.67"))

    def test_only_customers_at_the_start_count(self) -> None:
        """A customer who joined and left within the period changes neither figure."""
        rates = churn_rates(START, END, ["C1", "C2"], [churned("C1", DAY), churned("NEW", DAY)])
        assert (rates.customers_at_start, rates.churned) == (2, 1)

    def test_a_customer_counts_once(self) -> None:
        records = [churned("C1", DAY), churned("C1", dt.date(2024, 9, 1))]
        assert churn_rates(START, END, ["C1", "C2", "C1"], records).churned == 1
        assert churn_rates(START, END, ["C1", "C2", "C1"], records).customers_at_start == 2

    def test_the_period_runs_from_the_day_after_the_start_to_the_end(self) -> None:
        records = [
            churned("C1", START),
            churned("C2", START + dt.timedelta(days=1)),
            churned("C3", END),
            churned("C4", END + dt.timedelta(days=1)),
        ]
        assert churn_rates(START, END, ["C1", "C2", "C3", "C4"], records).churned == 2

    def test_no_customers_no_rate(self) -> None:
        rates = churn_rates(START, END, [], [churned("C1", DAY)])
        assert (rates.churn_rate, rates.retention_rate) == (None, None)
        assert rates.reasons == ("no customer had a policy in force on 2024-01-01: no rate",)

    def test_end_before_start_is_refused(self) -> None:
        with pytest.raises(ValidationError) as caught:
            churn_rates(END, START, [], [])
        assert caught.value.field == "end"
        assert churn_rates(START, START, ["C1"], []).churn_rate == Decimal("0.00")

    @given(st.data())
    def test_rates_are_between_0_and_100_and_add_up(self, data: st.DataObject) -> None:
        base = data.draw(st.lists(gen.customer_ids(), max_size=15))
        pool = [*base, "OUTSIDER"]
        start = data.draw(st.dates(dt.date(2000, 1, 1), dt.date(2025, 1, 1)))
        end = data.draw(st.dates(start, dt.date(2026, 1, 1)))
        records = data.draw(
            st.lists(
                st.sampled_from(pool).flatmap(
                    lambda cid: gen.churn_records(
                        customer_id=cid,
                        since=start - dt.timedelta(days=30),
                        until=end + dt.timedelta(days=30),
                    )
                ),
                max_size=20,
            )
        )
        rates = churn_rates(start, end, base, records)
        assert rates.customers_at_start == len(set(base))
        expected = {r.customer_id for r in records if r.customer_id in base and start < r.on <= end}
        assert rates.churned == len(expected)
        if not base:
            assert rates.churn_rate is None
            assert rates.retention_rate is None
            return
        assert rates.churn_rate is not None
        assert rates.retention_rate is not None
        assert Decimal(0) <= rates.churn_rate <= Decimal(100)
        assert Decimal(0) <= rates.retention_rate <= Decimal(100)
        assert rates.churn_rate + rates.retention_rate == Decimal(100)
        exact = Decimal(100) * rates.churned / rates.customers_at_start
        assert abs(rates.churn_rate - exact) <= Decimal("0.005")
