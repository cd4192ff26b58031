"""Service-tier use cases on the memory store (DOMAIN.md §6): load a ladder from a file,
evaluate one customer, grant a tier by hand, erase a customer, and review everyone."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import attrs
import pytest

from insurcrm.adapters.memory import MemoryStore
from insurcrm.domain.customers import Customer
from insurcrm.domain.events import (
    CustomerRegistered,
    PolicyStatusChanged,
    TierDowngraded,
    TierEnrolled,
    TierGranted,
    TierUpgraded,
)
from insurcrm.domain.policies import Policy
from insurcrm.domain.tier_membership import (
    GrantKind,
    TierChangeKind,
    TierGrant,
    TierMembership,
    grant_tier,
)
from insurcrm.domain.tiers import (
    DEFAULT_LADDER,
    Benefits,
    Combine,
    Criterion,
    DowngradeMode,
    DowngradeRules,
    DropPolicy,
    Indicator,
    Tier,
    TierLadder,
)
from insurcrm.errors import ConcurrencyError, NotFound, RuleViolation, ValidationError
from insurcrm.services import tiers
from insurcrm.services.customers import erase_customer
from insurcrm.services.tiers import (
    AtRisk,
    TierReview,
    evaluate_customer_tier,
    grant_customer_tier,
    load_ladder,
    review_tiers,
)
from tests.unit.store_examples import DAY, customer, policy, store_with
from tests.unit.tier_examples import EASY_TIERS

REASON = "张经理批准：大客户续保 3 张保单 ✓"

#: BASIC for everyone, PLUS with a policy in force, PRIME with two and ¥3,000 a year.
LADDER = TierLadder(EASY_TIERS)


def membership(store: MemoryStore, customer_id: str) -> TierMembership | None:
    with store.unit_of_work() as uow:
        return uow.tiers.find(customer_id)


def pinned(m: TierMembership, tier: str, on: dt.date) -> TierMembership:
    """``m`` with ``tier`` pinned from ``on`` for a year."""
    grant = TierGrant(tier, GrantKind.PIN, REASON, on, on.replace(year=on.year + 1))
    return grant_tier(LADDER, m, grant)


def pending_events(store: MemoryStore) -> list[object]:
    with store.unit_of_work() as uow:
        return [e.event for e in uow.outbox.pending(limit=1000)]


# -- load_ladder ---------------------------------------------------------------------------

LADDER_TOML = """\
# Our company's ladder (公司服务等级)
[downgrade]
mode = "IMMEDIATELY"
grace_days = 30
drop = "TO_QUALIFYING"

[[tiers]]
code = "STANDARD"
name_zh = "普通"

[[tiers]]
code = "SILVER"
name_zh = "银卡"
combine = "ANY"
criteria = [
    { indicator = "ANNUAL_PREMIUM", at_least = "10000.50" },
    { indicator = "CREDIT_GRADE", at_least = "A" },
]

[tiers.benefits]
services = ["柜面优先", "生日关怀"]
premium_discount = "1.5"
dedicated_csr = true

[[tiers]]
code = "GOLD"
name_zh = "金卡"
criteria = [
    { indicator = "ANNUAL_PREMIUM", at_least = 30000 },
    { indicator = "CREDIT_GRADE", at_least = "A" },
    { indicator = "TENURE_YEARS", at_least = 3 },
]
"""

TOML_LADDER = TierLadder(
    (
        Tier("STANDARD", "普通"),
        Tier(
            "SILVER",
            "银卡",
            criteria=(
                Criterion(Indicator.ANNUAL_PREMIUM, Decimal("10000.50")),
                Criterion(Indicator.CREDIT_GRADE, "A"),  # type: ignore[arg-type]
            ),
            combine=Combine.ANY,
            benefits=Benefits(
                services=("柜面优先", "生日关怀"),
                premium_discount=Decimal("1.5"),
                dedicated_csr=True,
            ),
        ),
        Tier(
            "GOLD",
            "金卡",
            criteria=(
                Criterion(Indicator.ANNUAL_PREMIUM, Decimal(30000)),
                Criterion(Indicator.CREDIT_GRADE, "A"),  # type: ignore[arg-type]
                Criterion(Indicator.TENURE_YEARS, 3),
            ),
        ),
    ),
    DowngradeRules(mode=DowngradeMode.IMMEDIATELY, grace_days=30, drop=DropPolicy.TO_QUALIFYING),
)


def test_load_ladder_reads_a_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "ladder.toml"
    path.write_text(LADDER_TOML, encoding="utf-8")
    assert load_ladder(path) == TOML_LADDER
    assert load_ladder(str(path)) == TOML_LADDER
    upper = tmp_path / "LADDER.TOML"
    upper.write_text(LADDER_TOML, encoding="utf-8")
    assert load_ladder(upper) == TOML_LADDER


def test_load_ladder_reads_a_json_file(tmp_path: Path) -> None:
    data = DEFAULT_LADDER.to_data()
    path = tmp_path / "ladder.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    assert load_ladder(path) == DEFAULT_LADDER
    assert load_ladder(path).to_data() == data
    with_bom = tmp_path / "excel.json"  # saved by a Windows editor
    with_bom.write_bytes(b"\xef\xbb\xbf" + json.dumps(data).encode())
    assert load_ladder(with_bom) == DEFAULT_LADDER
    any_suffix = tmp_path / "ladder.conf"
    any_suffix.write_text(json.dumps(TOML_LADDER.to_data()), encoding="utf-8")
    assert load_ladder(any_suffix) == TOML_LADDER


def test_a_ladder_mistake_names_the_file_and_the_place(tmp_path: Path) -> None:
    path = tmp_path / "ladder.toml"
    unknown = LADDER_TOML.replace(
        '"ANNUAL_PREMIUM", at_least = "10000.50"', '"SHOE_SIZE", at_least = 42'
    )
    assert unknown != LADDER_TOML
    path.write_text(unknown, encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_ladder(path)
    assert caught.value.field == "ladder.toml:tiers[1].criteria[0].indicator"
    assert caught.value.rule == "tier.indicator"
    assert "ladder.toml:tiers[1].criteria[0].indicator" in str(caught.value)

    data = DEFAULT_LADDER.to_data()
    data["tiers"][2]["criteria"][1]["at_least"] = -1
    bad_json = tmp_path / "ladder.json"
    bad_json.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_ladder(bad_json)
    assert caught.value.field == "ladder.json:tiers[2].criteria[1].at_least"
    assert caught.value.rule == "tier.threshold"

    data = DEFAULT_LADDER.to_data()
    data["downgrade"]["grace"] = 30
    unknown_key = tmp_path / "rules.json"
    unknown_key.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_ladder(unknown_key)
    assert caught.value.field == "rules.json:downgrade.grace"


def test_a_file_that_does_not_parse_is_a_syntax_error(tmp_path: Path) -> None:
    toml = tmp_path / "ladder.toml"
    toml.write_text('[[tiers]]\ncode = "STANDARD\n', encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_ladder(toml)
    assert (caught.value.field, caught.value.rule) == ("ladder.toml", "ladder.syntax")
    json_file = tmp_path / "ladder.json"
    json_file.write_text('{"tiers": [', encoding="utf-8")
    with pytest.raises(ValidationError) as caught:
        load_ladder(json_file)
    assert (caught.value.field, caught.value.rule) == ("ladder.json", "ladder.syntax")


def test_a_file_that_cannot_be_read_is_a_file_error(tmp_path: Path) -> None:
    cases = {
        tmp_path / "missing.toml": None,
        tmp_path / "latin1.toml": "código = 'ñ'".encode("latin-1"),
    }
    for path, content in cases.items():
        if content is not None:
            path.write_bytes(content)
        with pytest.raises(ValidationError) as caught:
            load_ladder(path)
        assert (caught.value.field, caught.value.rule) == (path.name, "ladder.file")
    with pytest.raises(ValidationError) as caught:
        load_ladder(tmp_path)  # a directory
    assert caught.value.rule == "ladder.file"


# -- evaluate one customer --------------------------------------------------------------------


def test_evaluating_without_save_stores_nothing() -> None:
    store = store_with(customer("C1"), policy("P1", "C1"))
    before = pending_events(store)
    result = evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER)
    assert (result.tier, result.qualifying, result.next_tier) == ("PLUS", "PLUS", "PRIME")
    assert result.changed
    assert result.membership.version == 0
    assert membership(store, "C1") is None
    assert pending_events(store) == before


def test_evaluating_with_save_stores_the_membership_and_its_events() -> None:
    store = store_with(customer("C1"), policy("P1", "C1"))
    result = evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER, save=True)
    stored = membership(store, "C1")
    assert stored == attrs.evolve(result.membership, version=1)
    assert stored is not None
    assert [c.kind for c in stored.history] == [TierChangeKind.ENROLLED]
    assert pending_events(store)[-1] == TierEnrolled("C1", DAY, "PLUS", result.reasons)
    again = evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER, save=True)
    assert not again.changed
    assert membership(store, "C1") == stored  # still version 1
    later = DAY + dt.timedelta(days=40)
    with pytest.raises(RuleViolation):
        evaluate_customer_tier(store.unit_of_work(), "C1", DAY - dt.timedelta(days=1), LADDER)
    with pytest.raises(NotFound):
        evaluate_customer_tier(store.unit_of_work(), "nobody", later, LADDER, save=True)


def test_an_erased_customer_is_evaluated_but_no_change_is_saved() -> None:
    store = store_with(customer("C1"), policy("P1", "C1"))
    erase_customer(store.unit_of_work(), "C1", DAY)
    result = evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER)
    assert result.changed  # what a review would do, were they not erased
    with pytest.raises(RuleViolation, match="C1 was erased"):
        evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER, save=True)
    assert membership(store, "C1") is None  # as the review, which skips them
    with pytest.raises(RuleViolation, match="C1 was erased"):
        grant_customer_tier(
            store.unit_of_work(), "C1", "PRIME", GrantKind.PIN, "VIP", DAY, DAY + dt.timedelta(1)
        )
    assert membership(store, "C1") is None


def test_a_failing_clock_alone_is_saved() -> None:
    lapsed = policy("P1", "C1").lapse(DAY + dt.timedelta(days=20))
    store = store_with(customer("C1"), lapsed)
    evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER, save=True)
    on = DAY + dt.timedelta(days=30)
    result = evaluate_customer_tier(store.unit_of_work(), "C1", on, LADDER, save=True)
    assert result.change is None
    assert result.at_risk
    stored = membership(store, "C1")
    assert stored is not None
    assert (stored.tier, stored.failing_since, stored.version) == ("PLUS", on, 2)


# -- grants -------------------------------------------------------------------------------


def test_a_grant_enrols_a_customer_without_membership() -> None:
    store = store_with(customer("C1"))
    until = DAY.replace(year=2025)
    stored = grant_customer_tier(
        store.unit_of_work(), "C1", "PRIME", GrantKind.PIN, REASON, DAY, until, LADDER
    )
    assert stored.version == 1
    assert stored.events == ()
    assert membership(store, "C1") == stored
    assert stored.tier == "PRIME"
    assert stored.grant is not None
    assert (stored.grant.reason, stored.grant.kind, stored.grant.expires_on) == (
        REASON,
        GrantKind.PIN,
        until,
    )
    assert [(c.kind, c.from_tier, c.to_tier) for c in stored.history] == [
        (TierChangeKind.ENROLLED, None, "BASIC"),
        (TierChangeKind.GRANTED, "BASIC", "PRIME"),
        (TierChangeKind.UPGRADED, "BASIC", "PRIME"),
    ]
    events = pending_events(store)
    assert events[0] == CustomerRegistered("C1", DAY)
    assert events[2] == TierGranted("C1", DAY, "PRIME", "PIN", until)
    assert [type(e) for e in events[1:]] == [TierEnrolled, TierGranted, TierUpgraded]
    assert REASON not in repr(events)  # the free text stays with the membership


def test_a_grant_to_a_member_is_saved_and_a_bad_grant_stores_nothing() -> None:
    store = store_with(customer("C1"), policy("P1", "C1"))
    evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER, save=True)
    on = DAY + dt.timedelta(days=10)
    uow = store.unit_of_work()
    floor = grant_customer_tier(
        uow, "C1", "PLUS", GrantKind.FLOOR, REASON, on, on.replace(year=2025), LADDER
    )
    assert (floor.version, floor.tier) == (2, "PLUS")  # a floor at the held tier: no move
    assert [c.kind for c in floor.history] == [TierChangeKind.ENROLLED, TierChangeKind.GRANTED]
    with pytest.raises(RuleViolation):
        grant_customer_tier(uow, "C1", "DIAMOND", GrantKind.PIN, REASON, on, on.replace(year=2025))
    with pytest.raises(RuleViolation):  # before the membership's last change
        grant_customer_tier(uow, "C1", "PRIME", GrantKind.PIN, REASON, DAY, on, LADDER)
    with pytest.raises(ValidationError):
        grant_customer_tier(uow, "C1", "PRIME", GrantKind.PIN, "  ", on, on.replace(year=2025))
    with pytest.raises(ValidationError):
        grant_customer_tier(uow, "C1", "PRIME", GrantKind.PIN, REASON, on, on, LADDER)
    with pytest.raises(NotFound):
        grant_customer_tier(
            uow, "nobody", "PRIME", GrantKind.PIN, REASON, on, on.replace(year=2025), LADDER
        )
    assert membership(store, "C1") == floor
    assert membership(store, "nobody") is None


# -- erasure -------------------------------------------------------------------------------


def test_erasing_a_customer_clears_the_grant_reason_and_keeps_the_tier_history() -> None:
    store = store_with(customer("C1"), customer("C2"), policy("P2", "C2"))
    granted = grant_customer_tier(
        store.unit_of_work(), "C1", "PRIME", GrantKind.FLOOR, REASON, DAY, DAY.replace(2025), LADDER
    )
    evaluate_customer_tier(store.unit_of_work(), "C2", DAY, LADDER, save=True)
    plain = membership(store, "C2")
    on = DAY + dt.timedelta(days=5)
    erase_customer(store.unit_of_work(), "C1", on)
    erase_customer(store.unit_of_work(), "C2", on)
    erased = membership(store, "C1")
    assert erased is not None
    assert erased.grant is not None
    assert erased.grant.reason == "erased"
    assert granted.grant is not None
    assert erased.grant == attrs.evolve(granted.grant, reason="erased")
    assert erased == attrs.evolve(granted, grant=erased.grant, version=2)
    assert erased.history == granted.history
    assert REASON not in repr(attrs.asdict(erased))
    assert membership(store, "C2") == plain  # nothing to erase: not saved
    erase_customer(store.unit_of_work(), "C1", on + dt.timedelta(days=1))  # idempotent
    assert membership(store, "C1") == erased


# -- the review ------------------------------------------------------------------------------


def test_a_review_skips_erased_customers() -> None:
    store = store_with(
        customer("C1"), customer("C2"), customer("C3"), policy("P1", "C1"), policy("P3", "C3")
    )
    evaluate_customer_tier(store.unit_of_work(), "C3", DAY, LADDER, save=True)
    before = membership(store, "C3")
    erase_customer(store.unit_of_work(), "C2", DAY)
    erase_customer(store.unit_of_work(), "C3", DAY)
    review = review_tiers(store.unit_of_work(), DAY + dt.timedelta(days=30), LADDER)
    assert (review.enrolled, review.skipped, review.unchanged) == (1, 2, 0)
    assert review.per_tier == {"BASIC": 0, "PLUS": 2, "PRIME": 0}  # C1, and C3 as it was
    assert membership(store, "C2") is None
    assert membership(store, "C3") == before


def test_a_review_in_small_batches_stores_the_same_and_reports_progress(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items: list[Customer | Policy] = [
        *(customer(f"C{i}") for i in range(1, 6)),
        policy("P1", "C1"),
        policy("P2", "C2"),
        policy("P3", "C2", premium="3000.00"),
        policy("P5", "C5"),
    ]
    whole = store_with(*items)
    expected = review_tiers(whole.unit_of_work(), DAY, LADDER)
    monkeypatch.setattr(tiers, "REVIEW_BATCH", 2)
    small = store_with(*items)
    calls: list[tuple[int, int]] = []
    review = review_tiers(small.unit_of_work(), DAY, LADDER, progress=lambda *c: calls.append(c))
    assert review == expected
    assert review.per_tier == {"BASIC": 2, "PLUS": 2, "PRIME": 1}
    assert calls == [(2, 5), (4, 5), (5, 5)]
    with whole.unit_of_work() as one, small.unit_of_work() as other:
        assert list(other.tiers.iterate()) == list(one.tiers.iterate())
    empty: list[tuple[int, int]] = []
    nobody = review_tiers(
        MemoryStore().unit_of_work(), DAY, LADDER, progress=lambda *c: empty.append(c)
    )
    assert (nobody.enrolled, nobody.unchanged, nobody.skipped, empty) == (0, 0, 0, [(0, 0)])


def test_a_review_for_a_date_before_a_membership_skips_it() -> None:
    store = store_with(customer("C1"), customer("C2"), policy("P1", "C1"))
    later = DAY + dt.timedelta(days=60)
    evaluate_customer_tier(store.unit_of_work(), "C1", later, LADDER, save=True)
    c1 = membership(store, "C1")
    review = review_tiers(store.unit_of_work(), DAY + dt.timedelta(days=30), LADDER)
    assert (review.enrolled, review.skipped, review.unchanged) == (1, 1, 0)
    assert review.per_tier == {"BASIC": 1, "PLUS": 1, "PRIME": 0}
    assert membership(store, "C1") == c1
    c2 = membership(store, "C2")
    assert c2 is not None
    assert c2.since == DAY + dt.timedelta(days=30)


def test_reviews_downgrade_at_the_anniversary_after_the_grace_period() -> None:
    """PLUS from 1 April 2024; the only policy lapses on 15 May; reviews every quarter
    until the anniversary, when the customer has failed for more than 90 days."""
    store = store_with(customer("C1"), policy("P1", "C1").lapse(dt.date(2024, 5, 15)))
    first = review_tiers(store.unit_of_work(), dt.date(2024, 4, 1), LADDER)
    assert (first.enrolled, first.per_tier["PLUS"]) == (1, 1)
    failing = review_tiers(store.unit_of_work(), dt.date(2024, 7, 1), LADDER)
    assert (failing.downgraded, failing.unchanged) == (0, 0)  # the failing clock is saved
    assert failing.at_risk == (
        AtRisk("C1", "PLUS", "BASIC", dt.date(2025, 4, 1), failing.at_risk[0].to_keep),
    )
    assert failing.at_risk[0].to_keep == ("1 more policy in force to keep PLUS",)
    stored = membership(store, "C1")
    assert stored is not None
    assert stored.failing_since == dt.date(2024, 7, 1)
    for day in (dt.date(2024, 10, 1), dt.date(2025, 1, 1), dt.date(2025, 3, 31)):
        quiet = review_tiers(store.unit_of_work(), day, LADDER)
        assert (quiet.downgraded, quiet.unchanged, quiet.per_tier["PLUS"]) == (0, 1, 1)
    down = review_tiers(store.unit_of_work(), dt.date(2025, 4, 1), LADDER)
    assert (down.downgraded, down.per_tier) == (1, {"BASIC": 1, "PLUS": 0, "PRIME": 0})
    assert down.at_risk == ()
    stored = membership(store, "C1")
    assert stored is not None
    assert [c.kind for c in stored.history] == [
        TierChangeKind.ENROLLED,
        TierChangeKind.DOWNGRADED,
    ]
    assert (stored.tier, stored.since, stored.failing_since, stored.last_review) == (
        "BASIC",
        dt.date(2025, 4, 1),
        None,
        dt.date(2025, 4, 1),
    )
    events = pending_events(store)
    assert isinstance(events[-1], TierDowngraded)
    assert (events[-1].from_tier, events[-1].to_tier) == ("PLUS", "BASIC")
    again = review_tiers(store.unit_of_work(), dt.date(2025, 4, 1), LADDER)
    assert (again.downgraded, again.unchanged) == (0, 1)
    assert membership(store, "C1") == stored
    assert pending_events(store) == events
    assert events[:2] == [
        CustomerRegistered("C1", DAY),
        PolicyStatusChanged("C1", DAY, "P1", "PENDING", "IN_FORCE"),
    ]


def test_downgrades_due_are_the_at_risk_customers_falling_within_the_days() -> None:
    on = dt.date(2024, 7, 1)

    def risk(customer_id: str, keep_by: dt.date | None) -> AtRisk:
        return AtRisk(customer_id, "PLUS", "BASIC", keep_by, ("1 more policy in force",))

    review = TierReview(
        as_of=on,
        per_tier={"BASIC": 0, "PLUS": 4, "PRIME": 0},
        enrolled=0,
        upgraded=0,
        downgraded=0,
        grants_ended=0,
        unchanged=4,
        skipped=0,
        at_risk=(
            risk("C1", on),
            risk("C2", on + dt.timedelta(days=30)),
            risk("C3", on + dt.timedelta(days=31)),
            risk("C4", None),  # the rules never move them
        ),
    )
    assert [a.customer_id for a in review.downgrades_due(0)] == ["C1"]
    assert [a.customer_id for a in review.downgrades_due(30)] == ["C1", "C2"]
    assert [a.customer_id for a in review.downgrades_due(31)] == ["C1", "C2", "C3"]
    assert [a.customer_id for a in review.downgrades_due(10_000)] == ["C1", "C2", "C3"]


def test_downgrades_due_from_a_review() -> None:
    store = store_with(customer("C1"), policy("P1", "C1").lapse(dt.date(2024, 5, 15)))
    review_tiers(store.unit_of_work(), dt.date(2024, 4, 1), LADDER)
    review = review_tiers(store.unit_of_work(), dt.date(2024, 7, 1), LADDER)
    days = (dt.date(2025, 4, 1) - dt.date(2024, 7, 1)).days
    assert [a.customer_id for a in review.downgrades_due(days)] == ["C1"]
    assert review.downgrades_due(days - 1) == ()
    never = TierLadder(LADDER.tiers, DowngradeRules(mode=DowngradeMode.NEVER))
    kept = review_tiers(store.unit_of_work(), dt.date(2024, 8, 1), never)
    assert [(a.customer_id, a.keep_by) for a in kept.at_risk] == [("C1", None)]
    assert kept.downgrades_due(10_000) == ()


def test_a_conflict_found_at_commit_stores_none_of_the_events() -> None:
    """The memory store checks versions at commit: the loser's events are not stored."""
    store = store_with(customer("C1"), policy("P1", "C1"))
    evaluate_customer_tier(store.unit_of_work(), "C1", DAY, LADDER, save=True)
    before = pending_events(store)
    first, second = store.unit_of_work(), store.unit_of_work()
    on = DAY + dt.timedelta(days=1)
    with first, second:
        for uow, tier in ((first, "PRIME"), (second, "BASIC")):
            uow.tiers.save(pinned(uow.tiers.get("C1"), tier, on))
        first.commit()
        with pytest.raises(ConcurrencyError):
            second.commit()
    stored = membership(store, "C1")
    assert stored is not None
    assert (stored.tier, stored.version) == ("PRIME", 2)
    added = pending_events(store)[len(before) :]
    assert [type(e) for e in added] == [TierGranted, TierUpgraded]
    until = on.replace(year=2025)
    assert added == [
        TierGranted("C1", on, "PRIME", "PIN", until),
        TierUpgraded("C1", on, "PLUS", "PRIME", (f"manual PIN grant of PRIME until {until}",)),
    ]
