"""Importing customers, policies, renewals and missed premiums from CSV: validation with the
domain rules, a rejects file that names line, field and reason without the values, idempotent
re-runs, resuming an interrupted import, and clear errors for files that cannot be read."""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
from click.testing import CliRunner
from hypothesis import event, given, settings
from hypothesis import strategies as st

from insurcrm import cli as cli_module
from insurcrm.adapters.memory import MemoryStore
from insurcrm.adapters.sql import SqlStore
from insurcrm.cli import INTERRUPTED_EXIT_CODE, REJECTS_EXIT_CODE, cli
from insurcrm.domain.policies import Policy, PolicyStatus, PurchaseKind
from insurcrm.domain.unit_of_work import UnitOfWorkFactory
from insurcrm.domain.values import Money
from insurcrm.errors import NotFound, RuleViolation
from insurcrm.services import csv_import, csv_policy_history
from insurcrm.services.csv_cells import Fault
from insurcrm.services.csv_import import CsvImportError, ImportResult, import_csv, kind_of
from insurcrm.testing import strategies as gen
from tests.contract.sql_stores import empty_postgres_store, empty_sqlite_store

BAD_ID_NUMBER = "110105194912310023"  # wrong check digit: must never be echoed
ID_NUMBER = "11010519491231002X"  # valid: must never be echoed either

CUSTOMERS = f"""id,name,created_on,id_number,mobile,household_id,is_internal
C1,王小明,2020-01-05,11010519491231002X,13812345678,H1,false
C2,O'Brien "Jo",2021-03-01,,,H1,true
C3,李四,2021-13-01,,,,
C4,张三,2022-02-02,{BAD_ID_NUMBER},,,
C5,赵六,2022-02-02,,,,maybe
"""

POLICIES = (
    "id,number,policyholder_id,insured_id,product_line,start_date,term_years,sum_assured,"
    "annual_premium,status,status_on,end_reason\n"
    """P1,N1,C1,C1,LIFE,2020-02-01,20,500000.00,12000.00,,,
P2,N2,C2,C1,ACCIDENT,2021-04-01,1,100000,300.5,LAPSED,2021-09-01,NON_PAYMENT
P3,N3,C9,C9,LIFE,2021-04-01,10,1000,100,,,
P4,N4,C1,C1,LIFE,2021-04-01,10,1000,1.234,,,
P5,N5,C1,C1,MOTORBIKE,2021-04-01,10,1000,100,,,
"""
)


def write(path: Path, text: str, *, bom: bool = False, encoding: str = "utf-8") -> Path:
    path.write_bytes((("\ufeff" if bom else "") + text).encode(encoding))
    return path


def cell(value: Any) -> str:
    """A value as a cell of the import layouts: an enum by name, a tuple of enums by names
    separated by ``;``, a flag as true/false, None empty."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ";".join(v.name for v in value)
    return str(getattr(value, "name", value))


def rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def imported_by_cli(url: str, files: list[Path], kinds: list[str]) -> str:
    """Run ``insurcrm import`` on ``files`` (given in any order) and check it imported the
    ``kinds`` in that order; returns what it said, on one line."""
    result = CliRunner().invoke(cli, ["import", "--db", url, *map(str, files)])
    assert result.exit_code in (0, REJECTS_EXIT_CODE), result.output
    said = " ".join(result.output.split())
    positions = [said.index(f"({kind})") for kind in kinds]
    assert positions == sorted(positions)
    return said


def counts(store: MemoryStore) -> tuple[int, int]:
    with store.unit_of_work() as uow:
        return uow.customers.count(), uow.policies.count()


class TestImport:
    def test_good_rows_are_stored_and_bad_ones_reported(self, tmp_path: Path) -> None:
        store = MemoryStore()
        customers = import_csv(
            store.unit_of_work(), write(tmp_path / "customers.csv", CUSTOMERS, bom=True)
        )
        assert (customers.kind, customers.rows, customers.stored, customers.rejected) == (
            "customers",
            5,
            2,
            3,
        )
        assert customers.rejects_path == tmp_path / "customers.rejects.csv"
        found = rejects(customers.rejects_path)
        assert [(r["line"], r["field"], r["rule"]) for r in found] == [
            ("4", "created_on", "date.format"),
            ("5", "id_number", found[1]["rule"]),
            ("6", "is_internal", "flag.format"),
        ]
        assert BAD_ID_NUMBER not in customers.rejects_path.read_text(encoding="utf-8")
        policies = import_csv(store.unit_of_work(), write(tmp_path / "policies.csv", POLICIES))
        assert (policies.kind, policies.stored, policies.rejected) == ("policies", 2, 3)
        assert policies.rejects_path is not None
        assert [(r["line"], r["field"]) for r in rejects(policies.rejects_path)] == [
            ("4", "policyholder_id"),
            ("5", "annual_premium"),
            ("6", "product_line"),
        ]
        with store.unit_of_work() as uow:
            c2 = uow.customers.get("C2")
            assert c2.profile is not None
            assert c2.profile.name.value == 'O\'Brien "Jo"'  # kept exactly
            assert c2.is_internal
            assert uow.households.get("H1").id == "H1"
            lapsed = uow.policies.get("P2")
            assert lapsed.status is PolicyStatus.LAPSED
            assert str(lapsed.annual_premium.amount) == "300.50"

    def test_running_the_same_import_again_adds_nothing(self, tmp_path: Path) -> None:
        store = MemoryStore()
        path = write(tmp_path / "customers.csv", CUSTOMERS)
        import_csv(store.unit_of_work(), path)
        again = import_csv(store.unit_of_work(), path)
        assert (again.stored, again.already_present, again.rejected) == (0, 2, 3)
        assert counts(store) == (2, 0)

    def test_an_interrupted_import_resumes(self, tmp_path: Path) -> None:
        rows = "".join(f"C{n},客户{n},2020-01-01\n" for n in range(1, 8))
        header = "id,name,created_on\n"
        broken = write(tmp_path / "customers.csv", header + rows + "C8,x,2020-01-01,extra\n")
        store = MemoryStore()
        with pytest.raises(CsvImportError, match=r"customers.csv, line 9: 4 fields") as error:
            import_csv(store.unit_of_work(), broken, batch=3)
        assert counts(store) == (6, 0)  # two batches committed; the third was not stored
        assert "the 6 rows stored before it stay" in str(error.value)  # and says so
        fixed = write(tmp_path / "customers.csv", header + rows)
        resumed = import_csv(store.unit_of_work(), fixed, batch=3)
        assert (resumed.stored, resumed.already_present) == (1, 6)
        assert counts(store) == (7, 0)


def test_a_stop_half_way_still_reports_the_rows_refused_before_it(tmp_path: Path) -> None:
    header = "id,name,created_on\n"
    rows = "C1,甲,2020-01-01\nC2,乙,2020-13-01\nC3,丙,2020-01-01\n"
    broken = write(tmp_path / "customers.csv", header + rows + "C4,丁,2020-01-01,extra\n")
    store = MemoryStore()
    with pytest.raises(CsvImportError, match=r"line 5: .*refused before it are in customers"):
        import_csv(store.unit_of_work(), broken, batch=1)
    report = tmp_path / "customers.rejects.csv"
    assert [(r["line"], r["field"]) for r in rejects(report)] == [("3", "created_on")]
    with pytest.raises(CsvImportError, match=r"line 2: 4 fields, the header has 3$"):
        import_csv(
            MemoryStore().unit_of_work(), write(tmp_path / "b.csv", header + "C4,丁,2020-01-01,x\n")
        )


def test_a_cooperation_partner_is_flagged_in_its_column(tmp_path: Path) -> None:
    rows = "id,name,created_on,cooperation_partner\nC1,甲,2020-01-01,true\nC2,乙,2020-01-01,\n"
    store = MemoryStore()
    assert import_csv(store.unit_of_work(), write(tmp_path / "c.csv", rows)).stored == 2
    with store.unit_of_work() as uow:
        assert [c.cooperation_partner for c in uow.customers.get_many(["C1", "C2"])] == [
            True,
            False,
        ]


def test_a_card_rule_is_reported_on_its_column(tmp_path: Path) -> None:
    """Rules between the card's fields (the ID number's gender digit, a birth date after the
    record) are reported on the file's column, not on the card's field."""
    rows = (
        "id,name,created_on,id_number,gender,birth_date\n"
        "C1,王小明,2020-01-05,11010519491231002X,MALE,\n"
        "C2,李四,2020-01-05,,,2030-01-01\n"
    )
    result = import_csv(MemoryStore().unit_of_work(), write(tmp_path / "c.csv", rows))
    assert result.rejected == 2
    assert [(r["line"], r["field"], r["rule"]) for r in rejects(tmp_path / "c.rejects.csv")] == [
        ("2", "id_number", "id_number.gender_mismatch"),
        ("3", "birth_date", "date.future"),
    ]


class TestFilesThatCannotBeRead:
    @pytest.mark.parametrize(
        ("text", "match"),
        [
            ("id,name\nC1,x\n", "line 1: wrong header: customers need the columns created_on"),
            ("id,name,created_on,nickname\n", "line 1: wrong header: unknown"),
            ("", "line 1: wrong header"),
            ("id,name,created_on,\n", "line 1: wrong header: a column without a name"),
            ("id,name,created_on,name\n", "line 1: wrong header: repeated columns name;"),
        ],
    )
    def test_wrong_header(self, tmp_path: Path, text: str, match: str) -> None:
        store = MemoryStore()
        with pytest.raises(CsvImportError, match=match):
            import_csv(store.unit_of_work(), write(tmp_path / "c.csv", text))
        assert counts(store) == (0, 0)

    @pytest.mark.parametrize(
        ("rows", "match"),
        [
            # a quote left open would swallow the rows after it into one cell
            (
                'C1,"王小明,2020-01-01\nC2,李娜,2020-01-01\nC3,"张三",2020-01-01\n',
                r"line 2: not a readable CSV row \(',' expected after '\"'; is a quote left open",
            ),
            ('C1,"王小明,2020-01-01\nC2,李娜,2020-01-01\n', r"line 2: .*unexpected end of data"),
            # a quoted cell over two lines makes a row too many fields: named by its first line
            ('C1,"王\n小明",2020-01-01,x\n', r"line 2: 4 fields, the header has 3 \(the row runs"),
        ],
    )
    def test_a_row_that_is_not_one_row_of_the_header(
        self, tmp_path: Path, rows: str, match: str
    ) -> None:
        store = MemoryStore()
        path = write(tmp_path / "c.csv", "id,name,created_on\n" + rows)
        with pytest.raises(CsvImportError, match=match) as error:
            import_csv(store.unit_of_work(), path)
        assert counts(store) == (0, 0)  # nothing of the batch is stored
        assert "王" not in str(error.value)
        assert "李娜" not in str(error.value)

    def test_a_row_cut_short_is_refused_not_stored_without_its_last_columns(
        self, tmp_path: Path
    ) -> None:
        store = MemoryStore()
        rows = "id,name,created_on,agent_id\nC1,王小明,2020-01-01,A1\nC2,李娜,2020-01-01\n"
        result = import_csv(store.unit_of_work(), write(tmp_path / "c.csv", rows))
        assert (result.stored, result.rejected) == (1, 1)
        assert [
            (r["line"], r["field"], r["rule"]) for r in rejects(tmp_path / "c.rejects.csv")
        ] == [("3", "agent_id", "row.fields")]
        fixed = rows.replace("李娜,2020-01-01\n", "李娜,2020-01-01,\n")  # the empty cell written
        assert import_csv(store.unit_of_work(), write(tmp_path / "c.csv", fixed)).stored == 1

    @pytest.mark.parametrize(
        "header",
        ['"id" ,name,created_on', 'id,name,created_on,"agent_id'],
    )
    def test_a_header_that_is_not_one_row_is_refused_without_its_cells(
        self, tmp_path: Path, header: str
    ) -> None:
        path = write(tmp_path / "c.csv", header + "\nC1,王小明,2020-01-01,A1\n")
        for read in (kind_of, lambda p: import_csv(MemoryStore().unit_of_work(), p)):
            with pytest.raises(CsvImportError, match=r"c\.csv, line 1: ") as error:
                read(path)
            assert "王小明" not in str(error.value)

    def test_a_row_over_two_lines_is_reported_on_its_first(self, tmp_path: Path) -> None:
        store = MemoryStore()
        path = write(tmp_path / "c.csv", 'id,name,created_on\nC1,"王\n小明",2020-13-01\n')
        assert import_csv(store.unit_of_work(), path).rejected == 1
        report = tmp_path / "c.rejects.csv"
        assert [(r["line"], r["field"]) for r in rejects(report)] == [("2", "created_on")]

    def test_a_rejects_file_that_cannot_be_written_stops_before_anything_is_stored(
        self, tmp_path: Path
    ) -> None:
        store = MemoryStore()
        path = write(tmp_path / "c.csv", "id,name,created_on\nC1,甲,2020-13-01\n")
        (tmp_path / "c.rejects.csv").mkdir()
        with pytest.raises(CsvImportError, match=r"^c.csv: the rejects file c.rejects.csv is a"):
            import_csv(store.unit_of_work(), path)
        with pytest.raises(CsvImportError, match="in a folder that does not exist"):
            import_csv(store.unit_of_work(), path, rejects_path=tmp_path / "no" / "r.csv")
        assert counts(store) == (0, 0)

    def test_a_rejects_file_that_fails_when_written_says_what_was_stored(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        store = MemoryStore()
        rows = "C1,甲,2020-01-01\nC2,乙,2020-13-01\n"
        path = write(tmp_path / "c.csv", "id,name,created_on\n" + rows)
        real_open = Path.open

        def full_disk(self: Path, *args: Any, **kwargs: Any) -> Any:
            if self.name.endswith(".rejects.csv"):
                raise OSError(28, "No space left on device")
            return real_open(self, *args, **kwargs)

        monkeypatch.setattr(Path, "open", full_disk)
        with pytest.raises(CsvImportError, match=r"1 row stored and 1 refused, but the rejects"):
            import_csv(store.unit_of_work(), path)
        assert counts(store) == (1, 0)

    def test_wrong_encoding(self, tmp_path: Path) -> None:
        store = MemoryStore()
        path = write(
            tmp_path / "c.csv", "id,name,created_on\nC1,王小明,2020-01-01\n", encoding="gbk"
        )
        with pytest.raises(CsvImportError, match=r"c.csv, line 2: not UTF-8") as error:
            import_csv(store.unit_of_work(), path)
        assert counts(store) == (0, 0)
        assert "stored before it" not in str(error.value)  # nothing was


class TestCommandLine:
    def test_imports_customers_first_and_prints_no_values(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'book.db'}"
        policies = write(tmp_path / "policies.csv", POLICIES)
        customers = write(tmp_path / "customers.csv", CUSTOMERS, bom=True)
        result = CliRunner().invoke(cli, ["import", "--db", url, str(policies), str(customers)])
        assert result.exit_code == REJECTS_EXIT_CODE == 3, result.output  # rows were rejected
        said = " ".join(result.output.split())
        assert "6 rows rejected" in said
        assert said.index("customers.csv (customers)") < said.index("policies.csv (policies)")
        assert "2 stored" in said
        for value in ("王小明", "13812345678", BAD_ID_NUMBER, ID_NUMBER):
            assert value not in result.output
        store = SqlStore.open(url)
        try:
            with store.unit_of_work() as uow:
                assert (uow.customers.count(), uow.policies.count()) == (2, 2)
        finally:
            store.dispose()

    def test_a_wrong_header_in_any_file_stops_before_the_first_is_stored(
        self, tmp_path: Path
    ) -> None:
        url = f"sqlite:///{tmp_path / 'book.db'}"
        customers = write(tmp_path / "customers.csv", CUSTOMERS)
        extra = POLICIES.replace("\n", ",premium_mode\n", 1)  # an unknown column
        policies = write(tmp_path / "policies.csv", extra)
        result = CliRunner().invoke(cli, ["import", "--db", url, str(customers), str(policies)])
        assert result.exit_code == 1
        assert "policies.csv, line 1: wrong header: unknown columns premium_mode" in " ".join(
            result.output.split()
        )
        assert not (tmp_path / "book.db").exists()  # not even created

    def test_exits_0_when_nothing_is_rejected(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'book.db'}"
        customers = write(tmp_path / "customers.csv", "id,name,created_on\nC1,甲,2020-01-01\n")
        result = CliRunner().invoke(cli, ["import", "--db", url, str(customers)])
        assert result.exit_code == 0, result.output
        assert "1 stored" in result.output
        assert "rejected:" not in result.output

    def test_ctrl_c_says_what_stays_and_the_same_command_goes_on(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url = f"sqlite:///{tmp_path / 'book.db'}"
        rows = "".join(f"C{n},客户{n},2020-01-01\n" for n in range(1, 8))
        customers = write(tmp_path / "customers.csv", "id,name,created_on\n" + rows)
        whole = csv_import.import_csv

        def stopped(*args: Any, **kwargs: Any) -> ImportResult:
            def stop(read: int) -> None:
                if read > 3:  # told after a batch is stored: after two batches of three
                    raise KeyboardInterrupt

            return whole(*args, **{**kwargs, "progress": stop, "batch": 3})

        monkeypatch.setattr(cli_module, "import_csv", stopped)
        result = CliRunner().invoke(cli, ["import", "--db", url, str(customers)])
        assert result.exit_code == INTERRUPTED_EXIT_CODE == 130, result.output
        said = " ".join(result.output.split())
        assert "Interrupted: the rows stored before it stay" in said
        assert "Run the same command again to go on" in said
        assert "Aborted" not in said
        monkeypatch.undo()
        again = CliRunner().invoke(cli, ["import", "--db", url, str(customers)])
        assert again.exit_code == 0, again.output
        assert "7 rows, 1 stored, 6 already present, 0 rejected" in " ".join(again.output.split())

    def test_one_row_is_one_row(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'book.db'}"
        customers = write(tmp_path / "c.csv", "id,name,created_on\nC1,甲,2020-13-01\n")
        result = CliRunner().invoke(cli, ["import", "--db", url, str(customers)])
        said = " ".join(result.output.split())
        assert "(customers): 1 row, 0 stored" in said
        assert "1 row rejected: fix" in said

    def test_an_unreadable_file_is_one_clean_error(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'book.db'}"
        bad = write(tmp_path / "c.csv", "id,name\n")
        result = CliRunner().invoke(cli, ["import", "--db", url, str(bad)])
        assert result.exit_code == 1
        assert "c.csv, line 1: wrong header" in result.output
        assert "Traceback" not in result.output


#: The first columns of a policies file.
POLICY_KEYS = "id,number,policyholder_id,insured_id,product_line,start_date,term_years,"


def _with_c1(tmp_path: Path) -> MemoryStore:
    """A store holding customer C1, imported."""
    store = MemoryStore()
    import_csv(
        store.unit_of_work(), write(tmp_path / "c.csv", "id,name,created_on\nC1,甲,2020-01-01\n")
    )
    return store


class TestRowsAndReferences:
    def test_a_forward_reference_is_resolved_and_a_repeated_id_refused(
        self, tmp_path: Path
    ) -> None:
        text = (
            "id,name,created_on,referred_by,household_id\n"
            "C1,甲,2020-01-01,C2,H1\n"  # the referrer comes on the next line
            "C2,乙,2020-01-01,,\n"
            "C2,丙,2020-01-01,,\n"  # the same id again: refused, not silently dropped
            "C3,丁,2020-01-01,C9,H9\n"  # no such referrer: refused, and no household left
        )
        store = MemoryStore()
        path = write(tmp_path / "c.csv", text)
        result = import_csv(store.unit_of_work(), path)
        assert (result.stored, result.already_present, result.rejected) == (2, 0, 2)
        assert result.rejects_path is not None
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
            ("4", "id", "duplicate"),
            ("5", "referred_by", "reference.missing"),
        ]
        with store.unit_of_work() as uow:
            assert uow.customers.get("C1").referred_by == "C2"
            uow.households.get("H1")
            with pytest.raises(NotFound):
                uow.households.get("H9")
        again = import_csv(store.unit_of_work(), path)
        assert (again.stored, again.already_present) == (0, 2)

    def test_an_old_rejects_file_is_removed_when_nothing_is_refused(self, tmp_path: Path) -> None:
        store = MemoryStore()
        path = write(tmp_path / "c.csv", "id,name,created_on\nC1,甲,2020-13-01\n")
        assert import_csv(store.unit_of_work(), path).rejects_path is not None
        write(path, "id,name,created_on\nC1,甲,2020-12-01\n")
        assert import_csv(store.unit_of_work(), path).rejects_path is None
        assert not (tmp_path / "c.rejects.csv").exists()

    def test_a_missing_reference_names_its_column(self, tmp_path: Path) -> None:
        store = _with_c1(tmp_path)
        path = write(
            tmp_path / "p.csv",
            POLICY_KEYS + "sum_assured,annual_premium\n"
            "P1,N1,C9,C1,LIFE,2020-02-01,20,1000,100\n"
            "P2,N2,C1,C8,LIFE,2020-02-01,20,1000,100\n",
        )
        result = import_csv(store.unit_of_work(), path)
        assert result.rejects_path is not None
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
            ("2", "policyholder_id", "reference.missing"),
            ("3", "insured_id", "reference.missing"),
        ]

    @pytest.mark.parametrize(
        ("column", "value"),
        [("start_date", "20200201"), ("term_years", "²"), ("annual_premium", "１００")],
    )
    def test_loose_values_are_refused(self, tmp_path: Path, column: str, value: str) -> None:
        fields = {
            "id": "P1", "number": "N1", "policyholder_id": "C1", "insured_id": "C1",
            "product_line": "LIFE", "start_date": "2020-02-01", "term_years": "20",
            "sum_assured": "1000", "annual_premium": "100",
        }  # fmt: skip
        fields[column] = value
        path = write(tmp_path / "p.csv", ",".join(fields) + "\n" + ",".join(fields.values()) + "\n")
        result = import_csv(MemoryStore().unit_of_work(), path)
        assert result.rejected == 1
        assert result.rejects_path is not None
        assert rejects(result.rejects_path)[0]["field"] == column

    def test_a_second_customer_with_a_taken_id_number_is_refused(self, tmp_path: Path) -> None:
        store = MemoryStore()
        path = write(
            tmp_path / "c.csv",
            "id,name,created_on,id_number,household_id\n"
            f"C1,甲,2020-01-01,{ID_NUMBER},\n"
            f"C2,乙,2020-01-01,{ID_NUMBER},H9\n"  # the same person entered again
            "C3,丙,2020-01-01,,\n",
        )
        result = import_csv(store.unit_of_work(), path)
        assert (result.stored, result.rejected) == (2, 1)
        with store.unit_of_work() as uow, pytest.raises(NotFound):
            uow.households.get("H9")  # the refused row's household was not made either
        assert result.rejects_path is not None
        text = result.rejects_path.read_text(encoding="utf-8")
        assert ID_NUMBER not in text
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
            ("3", "id_number", "duplicate")
        ]
        again = import_csv(store.unit_of_work(), path)  # a re-run: C1 is present, C2 refused
        assert (again.stored, again.already_present, again.rejected) == (0, 2, 1)

    def test_a_currency_that_is_no_code_is_refused_on_its_column(self, tmp_path: Path) -> None:
        store = _with_c1(tmp_path)
        path = write(
            tmp_path / "p.csv",
            POLICY_KEYS + "sum_assured,annual_premium,currency\n"
            "P1,N1,C1,C1,LIFE,2020-02-01,20,1000,100,RMB\n"
            "P2,N2,C1,C1,LIFE,2020-02-01,20,1000,100,usd\n"
            "P3,N3,C1,C1,LIFE,2020-02-01,20,1000,100,HKD\n",
        )
        result = import_csv(store.unit_of_work(), path)
        assert (result.stored, result.rejected) == (1, 2)
        assert result.rejects_path is not None
        refused = rejects(result.rejects_path)
        assert [(r["line"], r["field"], r["rule"]) for r in refused] == [
            ("2", "currency", "money.currency"),
            ("3", "currency", "money.currency"),
        ]
        assert "the renminbi is CNY" in refused[0]["reason"]

    def test_rows_dated_after_the_import_date_are_refused(self, tmp_path: Path) -> None:
        today = dt.date(2026, 12, 3)
        store = MemoryStore()
        customers = write(
            tmp_path / "c.csv",
            "id,name,created_on\nC1,甲,2026-12-03\nC2,乙,2026-12-04\n",
        )
        result = import_csv(store.unit_of_work(), customers, today=today)
        assert result.rejects_path is not None
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
            ("3", "created_on", "date.future")
        ]
        header = "id,number,policyholder_id,insured_id,product_line,start_date,term_years,"
        policies = write(
            tmp_path / "p.csv",
            header + "sum_assured,annual_premium,status,status_on,end_reason\n"
            "P1,N1,C1,C1,LIFE,2027-01-01,20,1000,100,PENDING,,\n"  # sold, starts later: fine
            "P2,N2,C1,C1,LIFE,2027-01-01,20,1000,100,,,\n"  # in force from next year?
            "P3,N3,C1,C1,LIFE,2026-01-01,1,1000,100,LAPSED,2026-12-31,NON_PAYMENT\n"
            "P4,N4,C1,C1,LIFE,2026-01-01,20,1000,100,,,\n",
        )
        result = import_csv(store.unit_of_work(), policies, today=today)
        assert result.stored == 2
        assert result.rejects_path is not None
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
            ("3", "start_date", "date.future"),
            ("4", "status_on", "date.future"),
        ]
        assert "PENDING" in rejects(result.rejects_path)[0]["reason"]
        unchecked = import_csv(MemoryStore().unit_of_work(), customers)  # no date given
        assert unchecked.rejected == 0

    def test_a_missing_file_is_named_without_a_line(self, tmp_path: Path) -> None:
        with pytest.raises(CsvImportError, match=r"^nowhere\.csv: cannot be read") as error:
            import_csv(MemoryStore().unit_of_work(), tmp_path / "nowhere.csv")
        assert error.value.line == 0

    def test_an_unreadable_row_names_its_line(self, tmp_path: Path) -> None:
        huge = "x" * 200_000  # beyond the csv module's field limit
        path = write(tmp_path / "c.csv", f'id,name,created_on\nC1,"{huge}",2020-01-01\n')
        with pytest.raises(CsvImportError, match=r"c.csv, line 2: not a readable CSV row"):
            import_csv(MemoryStore().unit_of_work(), path)


# -- renewals: a payment history on stored policies ------------------------------------------------

#: Empty stores of every backend, by name.
STORES: dict[str, Callable[[], UnitOfWorkFactory]] = {
    "memory": MemoryStore,
    "sqlite": empty_sqlite_store,
    "postgres": empty_postgres_store,
}

RENEWALS = """policy_id,renewed_on,premium
P1,2021-02-01,
P1,2022-02-01,12500.00
P2,2021-06-01,300.50
P1,2021-02-01,12000
P2,2021-10-01,
P9,2022-01-01,
P1,2020-02-01,
P1,2023-02-01,1.234
P1,2030-01-01,
"""


def _book(store: UnitOfWorkFactory, tmp_path: Path) -> None:
    """C1 and C2 with P1 (LIFE, in force from 2020-02-01, premium 12,000.00) and P2
    (ACCIDENT, in force from 2021-04-01, lapsed on 2021-09-01)."""
    import_csv(store.unit_of_work(), write(tmp_path / "customers.csv", CUSTOMERS))
    import_csv(store.unit_of_work(), write(tmp_path / "policies.csv", POLICIES))


def _policy(store: UnitOfWorkFactory, policy_id: str) -> Policy:
    with store.unit_of_work() as uow:
        return uow.policies.get(policy_id)


@pytest.mark.parametrize("backend", list(STORES))
class TestRenewals:
    def test_renewals_are_recorded_in_date_order_and_bad_rows_reported(
        self, tmp_path: Path, backend: str
    ) -> None:
        store = STORES[backend]()
        _book(store, tmp_path)
        path = write(tmp_path / "renewals.csv", RENEWALS, bom=True)
        result = import_csv(store.unit_of_work(), path, today=dt.date(2026, 12, 4))
        assert (result.kind, result.rows, result.stored, result.already_present) == (
            "renewals",
            9,
            3,
            0,
        )
        assert result.rejects_path is not None
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
            ("5", "renewed_on", "duplicate"),
            ("6", "renewed_on", "premium.order"),
            ("7", "policy_id", "reference.missing"),
            ("8", "renewed_on", "premium.order"),
            ("9", "premium", "money.places"),
            ("10", "renewed_on", "date.future"),
        ]
        reasons = [r["reason"] for r in rejects(result.rejects_path)]
        assert reasons[1] == "the policy was not in force on that day"
        assert reasons[3] == "a renewal comes after the new-policy purchase"
        assert "N1" not in result.rejects_path.read_text(encoding="utf-8")  # no policy number
        p1 = _policy(store, "P1")
        assert [(p.on, p.amount, p.kind) for p in p1.purchases] == [
            (dt.date(2020, 2, 1), Money("12000"), PurchaseKind.NEW),
            (dt.date(2021, 2, 1), Money("12000"), PurchaseKind.RENEWAL),
            (dt.date(2022, 2, 1), Money("12500"), PurchaseKind.RENEWAL),
        ]
        assert p1.annual_premium == Money("12000")  # the policies file's, kept
        p2 = _policy(store, "P2")
        assert [p.on for p in p2.purchases] == [dt.date(2021, 4, 1), dt.date(2021, 6, 1)]
        assert p2.status is PolicyStatus.LAPSED

    def test_the_same_renewals_again_add_nothing(self, tmp_path: Path, backend: str) -> None:
        store = STORES[backend]()
        _book(store, tmp_path)
        path = write(tmp_path / "renewals.csv", RENEWALS)
        import_csv(store.unit_of_work(), path, today=dt.date(2026, 12, 4))
        stored = _policy(store, "P1")
        again = import_csv(store.unit_of_work(), path, today=dt.date(2026, 12, 4))
        assert (again.stored, again.already_present, again.rejected) == (0, 3, 6)
        assert _policy(store, "P1") == stored  # not even saved again
        other = write(
            tmp_path / "corrected.csv",
            "policy_id,renewed_on,premium\nP1,2021-02-01,13000\nP1,2024-02-01,\n",
        )
        corrected = import_csv(store.unit_of_work(), other)
        assert (corrected.stored, corrected.rejected) == (1, 1)
        assert corrected.rejects_path is not None
        assert [(r["field"], r["rule"]) for r in rejects(corrected.rejects_path)] == [
            ("premium", "premium.conflict")
        ]
        assert [p.on.year for p in _policy(store, "P1").purchases] == [2020, 2021, 2022, 2024]

    def test_missed_premiums_are_recorded_on_days_in_force(
        self, tmp_path: Path, backend: str
    ) -> None:
        store = STORES[backend]()
        _book(store, tmp_path)
        path = write(
            tmp_path / "missed.csv",
            "policy_id,due_date,premium\n"
            "P1,2023-02-01,\n"
            "P2,2021-06-01,250\n"
            "P2,2021-10-01,\n"  # P2 lapsed on 2021-09-01
            "P1,2023-02-01,\n",
        )
        result = import_csv(store.unit_of_work(), path)
        assert (result.kind, result.stored, result.rejected) == ("missed premiums", 2, 2)
        assert result.rejects_path is not None
        assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
            ("4", "due_date", "premium.order"),
            ("5", "due_date", "duplicate"),
        ]
        assert [(m.due_date, m.amount) for m in _policy(store, "P2").missed_premiums] == [
            (dt.date(2021, 6, 1), Money("250"))
        ]
        assert [m.due_date for m in _policy(store, "P1").missed_premiums] == [dt.date(2023, 2, 1)]
        again = import_csv(store.unit_of_work(), path)
        assert (again.stored, again.already_present, again.rejected) == (0, 2, 2)

    def test_a_row_without_premium_is_present_whatever_the_premium_is_now(
        self, tmp_path: Path, backend: str
    ) -> None:
        store = STORES[backend]()
        _book(store, tmp_path)
        path = write(tmp_path / "r.csv", "policy_id,renewed_on\nP1,2021-02-01\n")
        assert import_csv(store.unit_of_work(), path).stored == 1
        with store.unit_of_work() as uow:  # the premium goes up at the next renewal
            uow.policies.save(uow.policies.get("P1").renew(dt.date(2022, 2, 1), Money("13000")))
            uow.commit()
        again = import_csv(store.unit_of_work(), path)
        assert (again.stored, again.already_present, again.rejected) == (0, 1, 0)


def test_a_batch_another_writer_got_in_the_way_of_is_tried_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = MemoryStore()
    _book(store, tmp_path)
    renewals = csv_policy_history.HISTORY["renewals"]
    calls: list[str] = []

    def interfered(policy: Policy, entry: Any) -> Policy | Fault | None:
        calls.append(policy.id)
        if len(calls) == 1:  # another writer renews P1 between the batch's read and save
            with store.unit_of_work() as other:
                p1 = other.policies.get("P1")
                other.policies.save(p1.renew(dt.date(2023, 2, 1)))
                other.commit()
        return renewals.apply(policy, entry)

    patched = attrs.evolve(renewals, apply=interfered)
    monkeypatch.setitem(csv_policy_history.HISTORY, "renewals", patched)
    path = write(tmp_path / "r.csv", "policy_id,renewed_on\nP1,2021-02-01\nP2,2021-06-01\n")
    result = import_csv(store.unit_of_work(), path)
    assert (calls, result.stored, result.rejected) == (["P1", "P2", "P1", "P2"], 2, 0)
    assert [p.on.year for p in _policy(store, "P1").purchases] == [2020, 2021, 2023]


def test_a_policy_number_never_shows_in_a_reason(tmp_path: Path) -> None:
    store = _with_c1(tmp_path)
    numbered = write(
        tmp_path / "p.csv",
        POLICY_KEYS + "sum_assured,annual_premium,status,status_on\n"
        "P1,SECRET: 4401-7788,C1,C1,LIFE,2020-01-01,20,1000,100,LAPSED,2021-01-01\n"
        "P2,SECRET: 4401-7789,C1,C1,LIFE,2020-01-01,20,1000,100,LAPSED,2019-01-01\n",
    )
    policies = import_csv(store.unit_of_work(), numbered)
    missed = write(tmp_path / "m.csv", "policy_id,due_date\nP1,2021-06-01\n")
    premiums = import_csv(store.unit_of_work(), missed)
    for result in (policies, premiums):
        assert result.rejects_path is not None
        assert "4401" not in result.rejects_path.read_text(encoding="utf-8")


def test_a_missed_premium_is_due_before_the_import_date(tmp_path: Path) -> None:
    store = MemoryStore()
    _book(store, tmp_path)
    path = write(tmp_path / "m.csv", "policy_id,due_date\nP1,2026-12-03\nP1,2026-12-04\n")
    result = import_csv(store.unit_of_work(), path, today=dt.date(2026, 12, 4))
    assert result.rejects_path is not None
    assert [(r["line"], r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
        ("3", "due_date", "date.future")
    ]


@pytest.mark.parametrize(
    ("header", "match"),
    [
        ("id,name,created_on,due_date", "unknown columns due_date"),
        ("policy_id,renewed", "history needs status .*, renewed_on .* or due_date"),
        ("policy_id,status", "status changes need the columns on"),
        ("status,on,end_reason", "status changes need the columns policy_id"),
        ("policy_id,due_date,amount", "unknown columns amount"),
        ("due_date,premium", "missed premiums need the columns policy_id"),
        ("id,status,on", r"policies file needs policyholder_id, .* policy_id \(not id\)"),
        ("id,number,insured_id,product_line,status", "a policies file needs policyholder_id"),
    ],
)
def test_a_header_is_told_apart_by_policy_id_and_its_day(
    tmp_path: Path, header: str, match: str
) -> None:
    with pytest.raises(CsvImportError, match=match):
        import_csv(MemoryStore().unit_of_work(), write(tmp_path / "f.csv", header + "\n"))


def test_a_renewal_of_another_insurers_policy_is_refused_on_its_policy(tmp_path: Path) -> None:
    store = _with_c1(tmp_path)
    holding = write(
        tmp_path / "p.csv",
        POLICY_KEYS + "sum_assured,annual_premium,insurer\nP1,N1,C1,C1,LIFE,2020-01-01,20,"
        "1000,100,平安人寿\n",
    )
    import_csv(store.unit_of_work(), holding)
    path = write(tmp_path / "r.csv", "policy_id,renewed_on\nP1,2021-01-01\n")
    result = import_csv(store.unit_of_work(), path)
    assert result.rejects_path is not None
    assert [(r["field"], r["rule"]) for r in rejects(result.rejects_path)] == [
        ("policy_id", "premium.not_ours")
    ]


def test_the_command_line_imports_premiums_after_policies(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'book.db'}"
    files = [
        write(tmp_path / "missed.csv", "policy_id,due_date\nP1,2022-02-01\n"),
        write(tmp_path / "renewals.csv", "policy_id,renewed_on\nP1,2021-02-01\n"),
        write(tmp_path / "policies.csv", POLICIES),
        write(tmp_path / "customers.csv", CUSTOMERS),
    ]
    said = imported_by_cli(url, files, ["customers", "policies", "renewals", "missed premiums"])
    assert "renewals.csv (renewals): 1 row, 1 stored" in said
    assert "missed.csv (missed premiums): 1 row, 1 stored" in said
    store = SqlStore.open(url)
    try:
        assert len(_policy(store, "P1").purchases) == 2
        assert len(_policy(store, "P1").missed_premiums) == 1
    finally:
        store.dispose()


@settings(max_examples=25 if settings().max_examples < 100 else 100, deadline=None)
@given(data=st.data())
def test_an_import_of_renewals_is_record_renewal_row_by_row(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    """Whatever the rows, each is stored, already present or refused; the stored policy
    is the one :meth:`Policy.record_renewal` makes from the stored rows in file order; and
    the same file again stores nothing."""
    tmp_path = tmp_path_factory.mktemp("renewals")
    store = _with_c1(tmp_path)
    ours = data.draw(st.sampled_from([True, True, True, False]))
    policy = data.draw(gen.policies("C1", "C1", id="P1", ours=ours, until=dt.date(2025, 12, 31)))
    with store.unit_of_work() as uow:
        uow.policies.add(policy)
        uow.commit()
    start = policy.start_date  # days around the policy's life, to hit in-force ones
    span = max([(c.on - start).days for c in policy.history], default=0) + 400
    offsets = st.integers(-30, span).map(lambda n: start + dt.timedelta(days=n))
    days = data.draw(st.lists(offsets, min_size=1, max_size=8))
    path = write(
        tmp_path / "r.csv",
        "policy_id,renewed_on\n" + "".join(f"P1,{day.isoformat()}\n" for day in days),
    )
    result = import_csv(store.unit_of_work(), path)
    assert result.stored + result.already_present + result.rejected == len(days) == result.rows
    event("renewals stored" if result.stored else "none stored")
    expected = policy
    for day in dict.fromkeys(days):  # a day repeated in the file is refused
        if any(p.kind is PurchaseKind.RENEWAL and p.on == day for p in policy.purchases):
            continue  # the policy was stored with a renewal that day: already present
        with contextlib.suppress(RuleViolation):
            expected = expected.record_renewal(day)
    assert _policy(store, "P1").purchases == expected.purchases
    again = import_csv(store.unit_of_work(), path)
    assert again.stored == 0
