"""The command line: demo, summary, db upgrade, --version, and how errors are reported."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from insurcrm import __version__
from insurcrm.adapters.sql import SqlStore, head_revision, upgrade
from insurcrm.adapters.sql.schema import downgrade
from insurcrm.cli import DEFAULT_DB_URL, cli
from insurcrm.services.assessment import row_fields
from insurcrm.services.customers import erase_customer
from insurcrm.services.sample_portfolio import generate_sample


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def counts(url: str) -> tuple[int, int]:
    store = SqlStore.open(url)
    try:
        with store.unit_of_work() as uow:
            return uow.customers.count(), uow.policies.count()
    finally:
        store.dispose()


def assert_clean_failure(result: Result) -> None:
    """Exit code 1, one red line on stderr, no traceback."""
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit)
    assert result.stderr.startswith("Error: ")
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'demo.db'}"


class TestDemo:
    def test_builds_the_book_and_prints_the_summary(self, url: str) -> None:
        result = run("demo", "--db", url, "--customers", "200")
        assert result.exit_code == 0, result.output
        assert "Added 200 customers" in result.stdout
        for label in ("寿险", "重疾险", "车险", "信用等级", "未分类（无购买）", "Premium", "CNY"):
            assert label.lower() in result.stdout.lower()
        assert counts(url)[0] == 200

    def test_reports_the_segmentation(self, url: str) -> None:
        result = run("demo", "--db", url, "--customers", "200")
        assert result.exit_code == 0, result.output
        for label in (
            "客户忠诚度级别",
            "忠诚类型",
            "RFM 客户价值分类",
            "四象限价值分类",
            "客户保持策略",
            "Pareto",
            "活跃的客户",
            "优质客户",
        ):
            assert label in result.stdout, label

    def test_running_twice_adds_nothing(self, url: str) -> None:
        first = run("demo", "--db", url, "--customers", "200")
        assert first.exit_code == 0, first.output
        after_first = counts(url)
        second = run("demo", "--url", url, "--customers", "200")
        assert second.exit_code == 0, second.output
        assert "already in this database" in second.stdout
        assert counts(url) == after_first
        # The same figures are printed both times.
        assert first.stdout.split("Portfolio as of")[1] == second.stdout.split("Portfolio as of")[1]

    def test_prints_no_personal_data(self, url: str) -> None:
        result = run("demo", "--db", url, "--customers", "200", "--seed", "11")
        assert result.exit_code == 0, result.output
        store = SqlStore.open(url)
        try:
            with store.unit_of_work() as uow:
                profiles = [c.profile for c in uow.customers.iterate() if c.profile is not None]
        finally:
            store.dispose()
        for profile in profiles:
            assert profile.name.value not in result.output
            assert profile.id_number is None or profile.id_number.value not in result.output
            assert profile.mobile is None or profile.mobile.e164[3:] not in result.output

    def test_the_default_database_is_in_the_working_directory(self) -> None:
        assert DEFAULT_DB_URL == "sqlite:///insurcrm-demo.db"


class TestSummary:
    def test_summarises_an_existing_book(self, url: str) -> None:
        run("demo", "--db", url, "--customers", "60")
        result = run("summary", "--db", url)
        assert result.exit_code == 0, result.output
        assert "Customers (客户)" in result.stdout
        assert "60" in result.stdout

    def test_a_database_without_schema_says_to_upgrade(self, url: str) -> None:
        result = run("summary", "--db", url)
        assert_clean_failure(result)
        assert "insurcrm db upgrade" in result.stderr


class TestDbUpgrade:
    def test_creates_the_schema(self, url: str) -> None:
        result = run("db", "upgrade", "--db", url)
        assert result.exit_code == 0, result.output
        assert head_revision() in result.stdout
        assert counts(url) == (0, 0)

    def test_is_safe_to_run_again_with_the_url_alias(self, url: str) -> None:
        assert run("db", "upgrade", "--url", url).exit_code == 0
        again = run("db", "upgrade", "--url", url)
        assert again.exit_code == 0, again.output
        assert "up to date" in again.stdout

    def test_needs_a_url(self) -> None:
        result = run("db", "upgrade")
        assert result.exit_code == 2
        assert "--db" in result.stderr


class TestErrors:
    @pytest.mark.parametrize(
        ("db_url", "expected"),
        [
            ("not a url", "not a database URL"),
            ("mysql://someone:secret@host/db", "unsupported database"),
        ],
    )
    def test_a_bad_url_is_one_clear_line(self, db_url: str, expected: str) -> None:
        result = run("demo", "--db", db_url, "--customers", "5")
        assert_clean_failure(result)
        assert expected in result.stderr
        assert "secret" not in result.output

    def test_an_unreachable_database_is_one_clear_line(self, tmp_path: Path) -> None:
        missing = tmp_path / "no" / "such" / "dir" / "x.db"
        result = run("db", "upgrade", "--db", f"sqlite:///{missing}")
        assert_clean_failure(result)
        assert "cannot open the database" in result.stderr


class TestVersion:
    def test_version_option(self) -> None:
        result = run("--version")
        assert result.exit_code == 0
        assert result.stdout.strip() == f"insurcrm, version {__version__}"

    def test_python_dash_m(self) -> None:
        done = subprocess.run(
            [sys.executable, "-m", "insurcrm", "--version"],
            capture_output=True,
            text=True,
            check=True,
        )
        assert __version__ in done.stdout


class TestChurn:
    def test_detect_records_the_churns_an_imported_book_shows_once(
        self, url: str, tmp_path: Path
    ) -> None:
        customers = tmp_path / "customers.csv"
        customers.write_text("id,name,created_on\nC1,王小明,2020-01-05\nC2,李娜,2020-01-05\n")
        policies = tmp_path / "policies.csv"
        policies.write_text(
            "id,number,policyholder_id,insured_id,product_line,start_date,term_years,"
            "sum_assured,annual_premium,status,status_on,end_reason\n"
            "P1,N1,C1,C1,LIFE,2020-02-01,20,500000,12000,LAPSED,2024-06-01,NON_PAYMENT\n"
            "P2,N2,C2,C2,LIFE,2020-02-01,20,500000,12000,,,\n"
        )
        assert run("import", "--db", url, str(customers), str(policies)).exit_code == 0
        first = run("churn", "detect", "--db", url, "--as-of", "2025-01-01")
        assert first.exit_code == 0, first.output
        assert "As of 2025-01-01: churns recorded 1, customers won back 0." in first.stdout
        again = run("churn", "detect", "--db", url, "--as-of", "2025-01-01")
        assert "churns recorded 0, customers won back 0." in again.stdout
        store = SqlStore.open(url)
        try:
            with store.unit_of_work() as uow:
                (record,) = uow.churns.of_customer("C1")
        finally:
            store.dispose()
        assert (record.on, record.automatic, record.policy_id) == (dt.date(2024, 6, 1), True, "P1")

    def test_detect_on_a_database_without_the_schema_says_to_upgrade(self, url: str) -> None:
        result = run("churn", "detect", "--db", url)
        assert_clean_failure(result)
        assert "insurcrm db upgrade" in result.stderr


class TestTiers:
    def test_demo_reports_tiers_changes_and_downgrades_due(self, url: str) -> None:
        result = run("demo", "--db", url, "--customers", "200")
        assert result.exit_code == 0, result.output
        for label in ("服务级别", "STANDARD", "PLATINUM", "白金/VIP", "Tier changes", "At risk"):
            assert label in result.stdout, label
        store = SqlStore.open(url)
        try:
            with store.unit_of_work() as uow:
                per_tier = uow.tiers.count_by_tier()
        finally:
            store.dispose()
        assert sum(per_tier.values()) == 200

    def test_review_is_idempotent_for_a_date(self, url: str) -> None:
        run("demo", "--db", url, "--customers", "80")
        first = run("tiers", "review", "--db", url, "--as-of", "2026-09-30")
        assert first.exit_code == 0, first.output
        assert "This review:" in first.stdout
        second = run("tiers", "review", "--db", url, "--as-of", "2026-09-30")
        assert second.exit_code == 0, second.output
        assert "0 enrolled, 0 upgraded, 0 downgraded" in second.stdout
        assert "80 unchanged" in second.stdout

    def test_review_with_another_ladder_refuses_unknown_stored_tiers(self, tmp_path: Path) -> None:
        ladder = tmp_path / "ladder.toml"
        ladder.write_text(
            '[[tiers]]\ncode = "BLUE"\n\n[[tiers]]\ncode = "RED"\n'
            'criteria = [{ indicator = "POLICIES_IN_FORCE", at_least = 1 }]\n',
            encoding="utf-8",
        )
        fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
        run("demo", "--db", fresh, "--customers", "40")
        # The demo enrolled everyone on the default ladder: its tiers are not on this one.
        refused = run("tiers", "review", "--db", fresh, "--ladder", str(ladder))
        assert_clean_failure(refused)
        assert "not on this ladder" in refused.stderr

    def test_a_bad_ladder_file_is_one_clear_line(self, url: str, tmp_path: Path) -> None:
        run("db", "upgrade", "--db", url)
        ladder = tmp_path / "ladder.toml"
        ladder.write_text(
            '[[tiers]]\ncode = "BLUE"\n\n[[tiers]]\ncode = "RED"\n'
            'criteria = [{ indicator = "SHOE_SIZE", at_least = 1 }]\n',
            encoding="utf-8",
        )
        result = run("tiers", "review", "--db", url, "--ladder", str(ladder))
        assert_clean_failure(result)
        assert "ladder.toml:tiers[1].criteria[0].indicator" in result.stderr

    def test_show_explains_one_customer(self, url: str) -> None:
        run("demo", "--db", url, "--customers", "60")
        result = run("tiers", "show", "--db", url, "--customer", "C000001")
        assert result.exit_code == 0, result.output
        assert "Customer C000001" in result.stdout
        assert "qualifies for" in result.stdout

    def test_show_does_not_claim_a_tier_never_stored(self, url: str) -> None:
        run("generate", "--db", url, "--customers", "30")  # no tier review yet
        result = run("tiers", "show", "--db", url, "--customer", "C000001", "--as-of", "2026-06-30")
        assert result.exit_code == 0, result.output
        said = " ".join(result.stdout.split())  # as one line, however the console wrapped it
        assert "not on the ladder yet (a review would enrol them at STANDARD)" in said
        assert "holds" not in said

    def test_show_says_no_change_is_due_for_an_erased_customer(self, url: str) -> None:
        run("generate", "--db", url, "--customers", "30")  # no tier review yet
        store = SqlStore.open(url)
        try:
            erase_customer(store.unit_of_work(), "C000001", dt.date(2026, 6, 30))
        finally:
            store.dispose()
        result = run("tiers", "show", "--db", url, "--customer", "C000001", "--as-of", "2026-06-30")
        assert result.exit_code == 0, result.output
        said = " ".join(result.stdout.split())
        assert "personal data erased: no tier change is due (the review skips them)" in said
        assert "would enrol" not in said
        assert "At risk" not in said
        assert "Next:" not in said

    def test_show_an_unknown_customer_is_one_clear_line(self, url: str) -> None:
        run("db", "upgrade", "--db", url)
        result = run("tiers", "show", "--db", url, "--customer", "NOBODY")
        assert_clean_failure(result)

    def test_review_needs_an_upgraded_schema(self, url: str) -> None:
        result = run("tiers", "review", "--db", url)
        assert_clean_failure(result)
        assert "insurcrm db upgrade" in result.stderr


class TestRetention:
    def test_demo_reports_keeping_customers(self, url: str) -> None:
        result = run("demo", "--db", url, "--customers", "200")
        assert result.exit_code == 0, result.output
        for label in (
            "客户流失率",
            "客户保持率",
            "美誉度",
            "抱怨率",
            "answered by the promised day",
            "Early warnings of customers with a policy in force (客户不满预警)",
            "Renewal model (续保模型)",
            "Churned customers not won back",
            "Visit plan for 2026-06-30 to 2026-07-07",
            "TIER_CHANGE_NOTICE",
        ):
            assert label in result.stdout, label
        store = SqlStore.open(url)
        try:
            with store.unit_of_work() as uow:
                stored = (uow.churns.count(), uow.complaints.count(), uow.surveys.count())
        finally:
            store.dispose()
        assert all(n > 0 for n in stored), stored


def _book(url: str) -> tuple[tuple[object, ...], ...]:
    store = SqlStore.open(url)
    try:
        with store.unit_of_work() as uow:
            return (
                tuple(uow.customers.iterate()),
                tuple(uow.policies.iterate()),
                tuple(uow.complaints.iterate()),
                tuple(uow.interactions.iterate()),
                tuple(uow.surveys.iterate()),
                tuple(uow.churns.iterate()),
            )
    finally:
        store.dispose()


class TestGenerate:
    def test_fills_the_database_and_says_what_it_added(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'book.db'}"
        result = run("generate", "--db", url, "--customers", "120", "--seed", "7")
        assert result.exit_code == 0, result.output
        said = " ".join(result.stdout.split())  # the console wraps long lines
        assert "Added 120 customers" in said
        for label in ("contacts", "complaints", "survey responses", "churn records"):
            assert label in said, label
        book = _book(url)
        assert len(book[0]) == 120
        assert all(book), [len(part) for part in book]  # every kind of record was made

    def test_the_same_seed_gives_the_same_book_and_a_rerun_adds_nothing(
        self, tmp_path: Path
    ) -> None:
        first, second = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
        for url in (first, second):
            assert run("generate", "--db", url, "--customers", "60").exit_code == 0
        assert _book(first) == _book(second)
        again = run("generate", "--db", first, "--customers", "60")
        assert "already in this database" in again.stdout
        assert _book(first) == _book(second)

    def test_an_interrupted_run_is_resumed(self, tmp_path: Path) -> None:
        url, fresh = (f"sqlite:///{tmp_path / name}" for name in ("a.db", "b.db"))
        store = SqlStore.open(url, upgrade=True)

        def stop(done: int, total: int) -> None:
            raise KeyboardInterrupt  # after the first batch of 500 customers

        try:
            with pytest.raises(KeyboardInterrupt):
                generate_sample(store.unit_of_work(), customers=700, seed=7, progress=stop)
        finally:
            store.dispose()
        result = run("generate", "--db", url, "--customers", "700", "--seed", "7")
        assert result.exit_code == 0, result.output
        said = " ".join(result.stdout.split())
        assert re.search(r"Resumed an interrupted run: 5\d\d customers were already stored", said)
        assert run("generate", "--db", fresh, "--customers", "700", "--seed", "7").exit_code == 0
        assert _book(url) == _book(fresh)

    def test_needs_a_database_and_a_size(self) -> None:
        result = run("generate", "--customers", "10")
        assert result.exit_code != 0
        assert "--db" in result.output


class TestAssess:
    def test_prints_the_totals_of_every_classification(self, url: str) -> None:
        run("demo", "--db", url, "--customers", "80")
        result = run("assess", "--db", url, "--as-of", "2026-06-30")
        assert result.exit_code == 0, result.output
        for label in (
            "Assessment as of 2026-06-30: 80 customers",
            "客户忠诚度级别",
            "忠诚类型",
            "RFM 客户价值分类",
            "四象限价值分类",
            "客户保持策略",
            "信用等级",
            "服务等级变动",
            "客户服务升级规划",
            "客户区域分析",
            "销售业绩分析",
            "Pareto",
            "客户流失率",
            "客户不满的信号",
            "美誉度",
            "推荐率",
        ):
            assert label in result.stdout, label

    @pytest.mark.parametrize("fmt", ["csv", "json"])
    def test_writes_one_row_per_customer_without_personal_data(
        self, url: str, tmp_path: Path, fmt: str
    ) -> None:
        run("demo", "--db", url, "--customers", "50", "--seed", "11")
        out = tmp_path / f"rows.{fmt}"
        result = run("assess", "--db", url, "--format", fmt, "--out", str(out))
        assert result.exit_code == 0, result.output
        lines = out.read_text(encoding="utf-8").splitlines()
        assert len(lines) == 50 + (fmt == "csv")
        if fmt == "csv":
            assert lines[0].split(",") == list(row_fields())
        else:
            assert list(json.loads(lines[0])) == list(row_fields())
        store = SqlStore.open(url)
        try:
            with store.unit_of_work() as uow:
                people = list(uow.customers.iterate())
        finally:
            store.dispose()
        text = out.read_text(encoding="utf-8") + result.output
        for c in people:
            assert c.profile is not None
            assert c.profile.name.value not in text
            if c.profile.id_number is not None:
                assert c.profile.id_number.value not in text
        assert not list(tmp_path.glob(f".rows.{fmt}.*")), "no temporary file is left"
        mask = os.umask(0o022)
        os.umask(mask)
        assert out.stat().st_mode & 0o777 == 0o666 & ~mask  # as any new file, not 0600

    def test_rows_to_standard_output_keep_the_totals_off_it(self, url: str) -> None:
        run("demo", "--db", url, "--customers", "30")
        result = run("assess", "--db", url, "--format", "json")
        assert result.exit_code == 0, result.output
        rows = [json.loads(line) for line in result.stdout.splitlines()]
        assert len(rows) == 30
        assert "Assessment as of" in result.stderr

    def test_an_empty_book_gives_empty_totals(self, url: str) -> None:
        assert run("db", "upgrade", "--db", url).exit_code == 0
        result = run("assess", "--db", url)
        assert result.exit_code == 0, result.output
        assert "0 customers" in result.stdout
        assert "nothing to assess" in result.stdout

    def test_an_old_schema_says_to_upgrade(self, url: str) -> None:
        upgrade(url)
        downgrade(url, "0002")
        result = run("assess", "--db", url)
        assert_clean_failure(result)
        assert "insurcrm db upgrade" in result.stderr

    def test_the_date_is_today_unless_given(self, url: str) -> None:
        assert run("db", "upgrade", "--db", url).exit_code == 0
        result = run("assess", "--db", url)
        assert result.exit_code == 0, result.output
        assert f"Assessment as of {dt.date.today()}:" in result.stdout
        given = run("assess", "--db", url, "--as-of", "2025-03-31")
        assert "Assessment as of 2025-03-31:" in given.stdout

    @pytest.mark.parametrize(
        ("given", "said"),
        [
            ("2026-02-30", "is not a day of the calendar"),
            ("20260230", "written YYYY-MM-DD"),
            ("0001-01-01", "outside the dates taken (1900-01-01 to 2999-12-31)"),
            ("9999-12-31", "outside the dates taken"),
        ],
    )
    def test_a_date_that_is_not_one_says_why(self, url: str, given: str, said: str) -> None:
        result = run("assess", "--db", url, "--as-of", given)
        assert result.exit_code == 2
        assert said in result.output
        generated = run("generate", "--db", url, "--customers", "5", "--as-of", given)
        assert generated.exit_code == 2  # refused before the book is touched
        assert said in generated.output
        assert "Traceback" not in result.output + generated.output

    def test_out_into_a_missing_directory_is_refused_before_any_work(
        self, url: str, tmp_path: Path
    ) -> None:
        out = tmp_path / "missing" / "rows.csv"
        result = run("assess", "--db", url, "--format", "csv", "--out", str(out))
        assert result.exit_code == 2  # a usage error: the database is not even opened
        assert "--out" in result.output
        assert "no directory" in result.output
        assert "Traceback" not in result.output

    def test_out_needs_a_row_format(self, url: str, tmp_path: Path) -> None:
        result = run("assess", "--db", url, "--out", str(tmp_path / "x.csv"))
        assert result.exit_code == 2
        assert "--format csv" in result.output
