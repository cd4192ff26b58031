"""Import customers, policies, their history and customer-service records from CSV files
(UTF-8, with or without a BOM).

Column layout (the header names the columns, in any order; only the required ones must be
there; an unknown column is an error):

* customers: ``id``, ``name``, ``created_on`` (required); ``gender`` (MALE/FEMALE),
  ``birth_date``, ``id_number``, ``mobile``, ``email``, ``lead_source``, ``referred_by``,
  ``household_id``, ``is_internal`` (true/false), ``csr_id``, ``agent_id``,
  ``cooperation_partner`` (true/false: a cooperation partner, 合作伙伴).
* policies: ``id``, ``number``, ``policyholder_id``, ``insured_id``, ``product_line``,
  ``start_date``, ``term_years``, ``sum_assured``, ``annual_premium`` (required);
  ``currency`` (CNY), ``insurer`` (empty: ours), ``status`` (IN_FORCE; or PENDING, or an end
  status), ``status_on`` (the day of an end status), ``end_reason``, ``campaign`` (the
  reward programme it was sold under, 激励; empty: none).
* holdings on stored customers' cards: see :mod:`~insurcrm.services.csv_holdings`.
* status changes, renewals and missed premiums of stored policies: see
  :mod:`~insurcrm.services.csv_policy_history`.
* contacts, complaints, survey responses and churn records: see
  :mod:`~insurcrm.services.csv_records`.

Dates are ``YYYY-MM-DD``; amounts are decimals with at most 2 places; codes are the enum
names of the glossary. Every row is validated with the domain rules (a customer's card, a
policy and its status change, a premium's day, a record's customer). A bad row is written
to the rejects file with its line number, the field and the reason — never its values — and
the import goes on; an id repeated within a file is refused on its second line, and a row
with fewer fields than the header (cut short) is refused, rule ``row.fields``. A row that
names a customer not stored yet (a referrer, a policyholder) is tried again at the end of
the file, so it may name one further down; but not a chain of them (a referrer who is
themselves referred by a row further down): put referrers first. When nothing is refused,
an old rejects file is removed. Good rows are stored in batches, one transaction each; a
row whose id is already stored is counted as already present, so running the same import
again adds nothing and an interrupted import resumes where it stopped. A file that cannot
be read as such (wrong encoding, a wrong header, a quote left open, a row with more fields
than the header) stops the import with an error naming the file and the line the row
starts on; nothing of the batch being read is stored, and the rows refused before it are
written to the rejects file.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Callable, Iterator, Sequence
from enum import Enum
from pathlib import Path
from typing import Any, TypeVar

import attrs

from insurcrm.domain.customers import (
    ID_NUMBER,
    Customer,
    Household,
    LeadSource,
    id_number_taken,
)
from insurcrm.domain.labels import counted
from insurcrm.domain.policies import EndReason, Policy, PolicyStatus, ProductLine
from insurcrm.domain.unit_of_work import UnitOfWork
from insurcrm.domain.values import DEFAULT_CURRENCY, Email, Gender, Phone, ResidentId
from insurcrm.errors import (
    ConcurrencyError,
    Duplicate,
    InsurCRMError,
    NotFound,
    RuleViolation,
    ValidationError,
)
from insurcrm.services.csv_cells import (
    Reject,
    not_after,
    read_code,
    read_date,
    read_flag,
    read_money,
    read_text,
    required,
    retried,
)
from insurcrm.services.csv_holdings import (
    HOLDING_COLUMNS,
    HOLDING_REQUIRED,
    read_holding,
    store_holdings,
)
from insurcrm.services.csv_policy_history import (
    CHANGE_COLUMNS,
    CHANGE_REQUIRED,
    HISTORY,
    MISSED_COLUMNS,
    MISSED_REQUIRED,
    RENEWAL_COLUMNS,
    RENEWAL_REQUIRED,
    store_history,
    without_number,
)
from insurcrm.services.csv_records import (
    CHURN_COLUMNS,
    CHURN_REQUIRED,
    COMPLAINT_COLUMNS,
    COMPLAINT_REQUIRED,
    CONTACT_COLUMNS,
    CONTACT_REQUIRED,
    DIMENSION_COLUMNS,
    RECORDS,
    SURVEY_COLUMNS,
    SURVEY_REQUIRED,
    store_records,
)

__all__ = [
    "CHANGE_COLUMNS",
    "CHURN_COLUMNS",
    "COMPLAINT_COLUMNS",
    "CONTACT_COLUMNS",
    "CUSTOMER_COLUMNS",
    "HOLDING_COLUMNS",
    "KINDS",
    "MISSED_COLUMNS",
    "POLICY_COLUMNS",
    "RENEWAL_COLUMNS",
    "SURVEY_COLUMNS",
    "CsvImportError",
    "ImportResult",
    "import_csv",
    "kind_of",
]

E = TypeVar("E", bound=Enum)


CUSTOMER_REQUIRED = ("id", "name", "created_on")
#: Every column of a customers file.
CUSTOMER_COLUMNS = (
    *CUSTOMER_REQUIRED,
    "gender",
    "birth_date",
    "id_number",
    "mobile",
    "email",
    "lead_source",
    "referred_by",
    "household_id",
    "is_internal",
    "csr_id",
    "agent_id",
    "cooperation_partner",
)
POLICY_REQUIRED = (
    "id",
    "number",
    "policyholder_id",
    "insured_id",
    "product_line",
    "start_date",
    "term_years",
    "sum_assured",
    "annual_premium",
)
#: Every column of a policies file.
POLICY_COLUMNS = (
    *POLICY_REQUIRED,
    "currency",
    "insurer",
    "status",
    "status_on",
    "end_reason",
    "campaign",
)

#: Rows stored per transaction.
BATCH = 1000

Progress = Callable[[int], None]


class CsvImportError(InsurCRMError):
    """A file cannot be imported as it is: names the file and the line."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        self.path = path
        self.line = line  # 0: the file as a whole (it cannot be opened)
        self.reason = message
        where = f"{path.name}, line {line}" if line else path.name
        super().__init__(f"{where}: {message}")


@attrs.frozen
class ImportResult:
    """What an import of one file did."""

    path: Path
    kind: str
    rows: int
    stored: int
    already_present: int
    rejected: int
    rejects_path: Path | None


def _customer(row: dict[str, str], today: dt.date | None = None) -> Customer:
    card: dict[str, Any] = {}
    if (gender := read_code(row, "gender", Gender)) is not None:
        card["gender"] = gender
    if (birth := read_date(row, "birth_date")) is not None:
        card["birth_date"] = birth
    readers: tuple[tuple[str, Callable[[str], object]], ...] = (
        ("id_number", ResidentId),
        ("mobile", Phone.parse),  # a Chinese mobile without +86 is accepted
        ("email", Email),
    )
    for name, read in readers:
        value = read_text(row, name)
        if value is not None:
            try:
                card[name] = read(value)
            except ValidationError as error:
                raise ValidationError(name, error.rule, error.message) from None
    if (source := read_code(row, "lead_source", LeadSource)) is not None:
        card["lead_source"] = source
    for name in ("referred_by", "household_id", "csr_id", "agent_id"):
        if (value := read_text(row, name)) is not None:
            card[name] = value
    card["is_internal"] = read_flag(row, "is_internal")
    card["cooperation_partner"] = read_flag(row, "cooperation_partner")
    customer_id = required(read_text(row, "id"), "id")
    name = required(read_text(row, "name"), "name")
    created = not_after(required(read_date(row, "created_on"), "created_on"), "created_on", today)
    try:
        return Customer.register(customer_id, name, created, **card)
    except ValidationError as error:
        # a card's field (profile.birth_date) is reported on its column (birth_date)
        column = error.field.rpartition(".")[2]
        if column == error.field or column not in CUSTOMER_COLUMNS:
            raise
        raise ValidationError(column, error.rule, error.message) from None


def _policy(row: dict[str, str], today: dt.date | None = None) -> Policy:
    currency = read_text(row, "currency") or DEFAULT_CURRENCY
    term = required(read_text(row, "term_years"), "term_years")
    if not (term.isascii() and term.isdigit()):
        raise ValidationError("term_years", "term.format", "must be a whole number of years")
    policy = Policy(
        id=required(read_text(row, "id"), "id"),
        number=required(read_text(row, "number"), "number"),
        policyholder_id=required(read_text(row, "policyholder_id"), "policyholder_id"),
        insured_id=required(read_text(row, "insured_id"), "insured_id"),
        product_line=required(read_code(row, "product_line", ProductLine), "product_line"),
        start_date=required(read_date(row, "start_date"), "start_date"),
        term_years=int(term),
        sum_assured=read_money(row, "sum_assured", currency),
        annual_premium=read_money(row, "annual_premium", currency),
        insurer=read_text(row, "insurer"),
        campaign=read_text(row, "campaign"),
    )
    status = read_code(row, "status", PolicyStatus) or PolicyStatus.IN_FORCE
    if status is PolicyStatus.PENDING:
        return policy  # it may start later
    started = " (a policy yet to start is PENDING)"
    policy = policy.activate(not_after(policy.start_date, "start_date", today, started))
    if status is PolicyStatus.IN_FORCE:
        return policy
    on = not_after(required(read_date(row, "status_on"), "status_on"), "status_on", today)
    try:
        return policy.transition(status, on, read_code(row, "end_reason", EndReason))
    except RuleViolation as error:
        raise ValidationError("status_on", "status.order", without_number(error, policy)) from None


def _lines(path: Path) -> Iterator[str]:
    """The file's lines as text, decoded one by one (so a decoding error names its line);
    a UTF-8 byte-order mark is dropped."""
    try:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError:
                    raise CsvImportError(
                        path, number, "not UTF-8 text (save the file as UTF-8)"
                    ) from None
                yield text.removeprefix("\ufeff") if number == 1 else text
    except OSError as error:
        raise CsvImportError(path, 0, f"cannot be read ({error.strerror})") from None


def _unreadable(path: Path, line: int, error: csv.Error) -> CsvImportError:
    """A row the CSV reader refuses (read strictly, a quote left open cannot swallow the
    rows after it into one cell), said with a hint where the reader's words suggest one."""
    text = str(error)
    hint = "; is a quote left open?" if "expected after" in text or "end of data" in text else ""
    return CsvImportError(path, line, f"not a readable CSV row ({text}{hint})")


def _header(path: Path, reader: Any) -> list[str] | None:
    """The header row of ``reader`` (None for an empty file), read as every row is."""
    try:
        header: list[str] | None = next(reader, None)
    except csv.Error as error:
        raise _unreadable(path, 1, error) from None
    if header is not None and any("\n" in h or "\r" in h for h in header):
        # never echoed: the cell would hold the rows a quote left open swallowed
        raise CsvImportError(path, 1, "wrong header: a quote left open (a name runs over lines)")
    return header


def _rows(path: Path) -> Iterator[tuple[int, dict[str, str] | Reject]]:
    """The data rows of ``path`` (its header checked by :func:`kind_of`), each with the
    line it starts on; a row with fewer fields than the header (cut short) as its
    :class:`Reject`. Raises :class:`CsvImportError` for a file that cannot be read as one:
    a stray quote or a row with more fields than the header."""
    reader = csv.reader(_lines(path), strict=True)
    names = [h.strip() for h in _header(path, reader) or ()]
    while True:
        line = reader.line_num + 1  # where the next row starts (a quoted cell may span lines)
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _unreadable(path, line, error) from None
        if not any(cell.strip() for cell in row):
            continue
        fields = f"{len(row)} fields, the header has {len(names)}"
        if reader.line_num != line:
            fields += f" (the row runs to line {reader.line_num})"
        if len(row) > len(names):
            raise CsvImportError(path, line, fields)
        if len(row) < len(names):  # refused, not stored without its last columns
            reason = f"{fields}: the row is cut short (write its empty cells too)"
            yield line, Reject(line, names[len(row)], "row.fields", reason)
            continue
        yield line, dict(zip(names, row, strict=True))


def _check_names(path: Path, names: Sequence[str], columns: Sequence[str]) -> None:
    """Refuse a header with an empty, unknown or repeated column name."""
    if "" in names:
        raise CsvImportError(
            path, 1, "wrong header: a column without a name (a comma at the end of the header?)"
        )
    unknown = [n for n in names if n not in columns]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if unknown or repeated:
        said = [f"unknown columns {', '.join(unknown)}"] if unknown else []
        said += [f"repeated columns {', '.join(repeated)}"] if repeated else []
        raise CsvImportError(
            path, 1, f"wrong header: {'; '.join(said)}; the columns are {', '.join(columns)}"
        )


#: The kinds of file, each with the column that tells it apart (None: any other file), its
#: required and its every columns, in the order a command line imports them.
KINDS: tuple[tuple[str, str | None, tuple[str, ...], tuple[str, ...]], ...] = (
    ("customers", None, CUSTOMER_REQUIRED, CUSTOMER_COLUMNS),
    ("holdings", "insurer", HOLDING_REQUIRED, HOLDING_COLUMNS),
    ("policies", "policyholder_id", POLICY_REQUIRED, POLICY_COLUMNS),
    ("status changes", "status", CHANGE_REQUIRED, CHANGE_COLUMNS),
    ("renewals", "renewed_on", RENEWAL_REQUIRED, RENEWAL_COLUMNS),
    ("missed premiums", "due_date", MISSED_REQUIRED, MISSED_COLUMNS),
    ("contacts", "direction", CONTACT_REQUIRED, CONTACT_COLUMNS),
    ("complaints", "received_on", COMPLAINT_REQUIRED, COMPLAINT_COLUMNS),
    ("survey responses", "survey_id", SURVEY_REQUIRED, SURVEY_COLUMNS),
    ("churn records", "churned_on", CHURN_REQUIRED, CHURN_COLUMNS),
)


#: The kinds of file whose rows name a stored customer (``customer_id``).
_OF_CUSTOMERS = ("holdings", *RECORDS)
#: The columns that tell the files of :data:`_OF_CUSTOMERS` apart (:data:`KINDS`).
_CUSTOMER_MARKS = {mark for kind, mark, *_ in KINDS if kind in _OF_CUSTOMERS}


def kind_of(path: Path) -> tuple[str, tuple[str, ...]]:
    """``(kind, the columns)`` of a file, from its header (:data:`KINDS`): a header with
    ``policyholder_id`` is a policies file; else one with ``churned_on`` is a churn records
    file (its ``policy_id`` names the policy whose end made the churn); else one with
    ``policy_id`` holds a policy's history: status changes with ``status``, renewals with
    ``renewed_on``, missed premiums with ``due_date``; else one with ``customer_id``,
    ``survey_id``, ``direction``, ``received_on`` or ``insurer`` (and neither ``name`` nor
    ``created_on``) holds rows of stored customers: survey responses with ``survey_id``,
    contacts with ``direction``, complaints with ``received_on``, holdings with ``insurer``;
    any other is a customers file. A header with ``id`` beside ``status``, ``renewed_on`` or
    ``due_date`` (and neither ``name`` nor ``created_on``) is refused, naming both columns it
    may lack: ``policyholder_id`` (a policies file) and ``policy_id`` (a policy's history).

    Raises:
        CsvImportError: unreadable, not UTF-8, a required column missing, an empty,
            unknown or repeated column, or a policy history or records without the column
            that tells their kind.
    """
    header = _header(path, csv.reader(_lines(path), strict=True)) or []
    names = {h.strip() for h in header}
    marks = {k.mark for k in HISTORY.values()}
    if "policyholder_id" in names:
        kind = "policies"
    elif "churned_on" in names:
        kind = "churn records"
    elif "policy_id" in names or (names & marks and "id" not in names):
        marked = [name for name, k in HISTORY.items() if k.mark in names]
        if not marked:
            raise CsvImportError(
                path,
                1,
                "wrong header: a file of a policy's history needs status (status changes), "
                "renewed_on (renewals) or due_date (missed premiums)",
            )
        kind = marked[0]
    elif names & marks and not names & {"name", "created_on"}:
        # "id" beside status, renewed_on or due_date: a policies file that lost its
        # policyholder_id, or a policy's history that names its policy in "id"
        raise CsvImportError(
            path,
            1,
            "wrong header: a policies file needs policyholder_id, and a file of a policy's "
            "history names its policy in policy_id (not id)",
        )
    elif names & {"customer_id", *_CUSTOMER_MARKS} and not names & {"name", "created_on"}:
        marked = [kind for kind, mark, *_ in KINDS if kind in _OF_CUSTOMERS and mark in names]
        if not marked:
            raise CsvImportError(
                path,
                1,
                "wrong header: a file of customer records needs survey_id (survey responses), "
                "direction (contacts), received_on (complaints), churned_on (churn records) or "
                "insurer (holdings)",
            )
        kind = marked[0]
    else:
        kind = "customers"
    _, _, required, columns = next(k for k in KINDS if k[0] == kind)
    missing = [c for c in required if c not in names]
    if kind == "survey responses" and not names & set(DIMENSION_COLUMNS):
        missing.append(f"one of {', '.join(DIMENSION_COLUMNS)}")
    if missing:
        raise CsvImportError(path, 1, f"wrong header: {kind} need the columns {', '.join(missing)}")
    _check_names(path, [h.strip() for h in header], columns)
    return kind, columns


def _household_stored(uow: UnitOfWork, household_id: str) -> bool:
    try:
        uow.households.get(household_id)
    except NotFound:
        return False
    return True


def _store(
    uow: UnitOfWork, kind: str, items: list[tuple[int, Any]]
) -> tuple[int, int, list[Reject]]:
    """Store one batch in one transaction; returns (stored, already present, rejects).

    The whole batch goes through the bulk path when it can; a batch with a row already
    stored (a re-run) or a missing reference is stored row by row to tell them apart. A
    batch another writer got in the way of (``ConcurrencyError``) is tried again
    (:func:`~insurcrm.services.csv_cells.retried`).
    """
    if kind in RECORDS:
        return store_records(uow, RECORDS[kind], items)
    if kind in HISTORY:
        return store_history(uow, HISTORY[kind], items)
    if kind == "holdings":
        return store_holdings(uow, items)
    return retried(lambda: _store_new_or_rows(uow, kind, items), ConcurrencyError)


def _store_new_or_rows(
    uow: UnitOfWork, kind: str, items: list[tuple[int, Any]]
) -> tuple[int, int, list[Reject]]:
    """Store a batch of customers or policies: through the bulk path when every row is new
    and its references stored, else row by row (:func:`_store_rows`)."""
    with uow:
        try:
            if kind == "customers":
                homes = dict.fromkeys(c.household_id for _, c in items if c.household_id)
                new = [Household(h) for h in homes if not _household_stored(uow, h)]
                uow.households.add_many(new)
                uow.customers.add_many(c for _, c in items)
            else:
                uow.policies.add_many(p for _, p in items)
        except (Duplicate, NotFound):
            pass  # leaving without a commit rolls the batch back
        else:
            uow.commit()
            return len(items), 0, []
    return _store_rows(uow, kind, items)


def _store_rows(
    uow: UnitOfWork, kind: str, items: list[tuple[int, Any]]
) -> tuple[int, int, list[Reject]]:
    """Store one batch row by row in one transaction; returns (stored, present, rejects).
    The rows whose id is stored already are found with one read and counted as present."""
    stored = present = 0
    rejects: list[Reject] = []
    with uow:
        ids = [item.id for _, item in items]
        if kind == "customers":
            known = uow.customers.stored_among(ids)
        else:
            known = set(uow.policies.holders_among(ids))
        for line, item in items:
            if item.id in known:
                present += 1
                continue
            try:
                if kind == "customers":
                    if item.referred_by is not None:
                        uow.customers.get(item.referred_by)  # before anything is added
                    number = item.profile.id_number if item.profile is not None else None
                    if number is not None and uow.customers.find_by_id_number(number):
                        raise id_number_taken(number.value)  # before the household, too
                    home = item.household_id
                    if home is not None and not _household_stored(uow, home):
                        uow.households.add(Household(home))
                    uow.customers.add(item)
                else:
                    uow.policies.add(item)
                stored += 1
            except NotFound as error:
                rejects.append(
                    Reject(
                        line,
                        _column_naming(item, error.key),
                        "reference.missing",
                        f"no such {error.kind} stored",
                    )
                )
            except Duplicate as error:
                column, whose = _DUPLICATES.get(error.kind, ("id", "another row"))
                rejects.append(Reject(line, column, "duplicate", f"already used by {whose}"))
        uow.commit()
    return stored, present, rejects


#: The column of a row holding a key another record has, and who that is, by the kind of
#: key (a repeated id is reported on ``id``).
_DUPLICATES = {
    "policy number": ("number", "another policy"),
    ID_NUMBER: ("id_number", "another customer (one person is one customer)"),
}

#: The columns of a row that name another stored record, by the kind of row.
_REFERENCES = {
    "customers": ("referred_by", "household_id"),
    "policies": ("policyholder_id", "insured_id"),
}


def _column_naming(item: Customer | Policy, key: str) -> str:
    """The column of ``item``'s row that names the missing record ``key``."""
    kind = "customers" if isinstance(item, Customer) else "policies"
    return next((c for c in _REFERENCES[kind] if getattr(item, c) == key), kind)


#: How each kind of row is read from its columns.
_BUILDERS: dict[str, Callable[..., Any]] = {
    "customers": _customer,
    "holdings": read_holding,
    "policies": _policy,
    **{name: kind.build for name, kind in HISTORY.items()},
    **{name: kind.build for name, kind in RECORDS.items()},
}

#: What a row repeats when its key is repeated in a file, and the column it is reported on.
_REPEATED = {
    "customers": ("the id is", "id"),
    "holdings": ("the same holding of this customer is", "insurer"),
    "policies": ("the id is", "id"),
    **{name: (f"{k.repeated} on this day is", k.day) for name, k in HISTORY.items()},
    **dict.fromkeys(RECORDS, ("the id is", "id")),
    "churn records": ("the id (without one: the customer's churn on this day) is", "id"),
}


def _check_rejects_path(target: Path, path: Path) -> None:
    """Refuse, before anything is stored, a rejects file that could never be written (a
    folder of that name, or in no folder). One in a folder that cannot be written is found
    only when there are rejects to write (a clean import from a read-only folder works)."""
    if target.is_dir():
        reason = "is a folder"
    elif not target.parent.is_dir():
        reason = "is in a folder that does not exist"
    else:
        return
    raise CsvImportError(
        path, 0, f"the rejects file {target.name} {reason}: give another one (nothing stored)"
    )


def _write_rejects(target: Path, path: Path, rejects: list[Reject]) -> str | None:
    """Write the rejects file of ``path`` (a row a refused row, by line); returns why it
    cannot be written, or None."""
    try:
        with target.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(("file", "line", "field", "rule", "reason"))
            for reject in sorted(rejects, key=lambda r: r.line):
                writer.writerow((path.name, reject.line, reject.field, reject.rule, reject.reason))
    except OSError as error:
        return f"{target.name} cannot be written ({error.strerror})"
    return None


def _batch_end(kind: str, pending: list[tuple[int, Any]]) -> int:
    """Where a full batch ends: the rows of a policy history that follow one another for
    the same policy stay together (its status changes are judged together), so the last
    policy's rows wait for the next batch, unless they fill it."""
    if kind not in HISTORY:
        return len(pending)
    last = pending[-1][1].policy_id
    cut = len(pending)
    while cut and pending[cut - 1][1].policy_id == last:
        cut -= 1
    return cut or len(pending)


def import_csv(
    uow: UnitOfWork,
    path: Path,
    *,
    rejects_path: Path | None = None,
    progress: Progress | None = None,
    batch: int = BATCH,
    today: dt.date | None = None,
) -> ImportResult:
    """Import one file of customers, holdings, policies, status changes, renewals, missed
    premiums, contacts, complaints, survey responses or churn records (the kind is read from
    its header).

    Args:
        uow: the unit of work to store with (not inside a ``with`` block).
        path: the CSV file.
        rejects_path: where bad rows are reported (default ``<file>.rejects.csv`` beside
            it; written only when a row is rejected).
        progress: called with the rows read so far after each batch.
        batch: rows stored per transaction.
        today: the import date: a row dated after it (a customer created, a policy in
            force or ended started, a status reached or changed to, a renewal, a contact, a
            complaint received or one of its steps, a survey response, a churn or its
            win-back), or a missed premium
            due on it or later, is refused, rule ``date.future``; a PENDING policy may start
            later and a complaint's answer be promised for later. None (the default)
            checks nothing; the command line passes today's date.

    Raises:
        CsvImportError: the file cannot be read as a CSV of this layout (names the line;
            the rows refused before that line are in the rejects file); the rejects file is
            a folder or in none (before anything is stored), or cannot be written, or an old
            one removed, when it comes to it (saying what was stored).
    """
    kind, _ = kind_of(path)  # and its header checked
    build = functools.partial(_BUILDERS[kind], today=today)
    target = rejects_path or path.with_name(path.stem + ".rejects.csv")
    _check_rejects_path(target, path)
    rows = stored = present = 0
    rejects: list[Reject] = []
    pending: list[tuple[int, Any]] = []
    later: list[tuple[int, Any]] = []  # refused for a reference a later row may add
    first_line: dict[str, int] = {}

    retry = kind in ("customers", "policies")  # the others' references are imported first

    def flush(items: list[tuple[int, Any]], *, last_try: bool) -> None:
        nonlocal stored, present
        done, already, refused = _store(uow, kind, items)
        stored += done
        present += already
        by_line = dict(items)
        for reject in refused:
            if reject.rule == "reference.missing" and not last_try and retry:
                later.append((reject.line, by_line[reject.line]))
            else:
                rejects.append(reject)
        items.clear()
        if progress is not None:
            progress(rows)

    try:
        for line, row in _rows(path):
            rows += 1
            if isinstance(row, Reject):  # a row cut short
                rejects.append(row)
                continue
            try:
                item = build(row)
            except ValidationError as error:
                rejects.append(Reject(line, error.field, error.rule, error.message))
            else:
                seen = first_line.setdefault(item.id, line)
                if seen != line:
                    what, column = _REPEATED[kind]
                    reason = f"{what} repeated in this file (first on line {seen})"
                    rejects.append(Reject(line, column, "duplicate", reason))
                else:
                    pending.append((line, item))
            if len(pending) >= batch:
                cut = _batch_end(kind, pending)
                head, pending[:] = pending[:cut], pending[cut:]
                flush(head, last_try=False)
        flush(pending, last_try=False)
        if later:  # a referrer or policyholder further down the file is stored by now
            flush(sorted(later, key=lambda e: e[0]), last_try=True)
    except BaseException as error:  # a stop half-way still reports the rows refused so far
        unwritten = _write_rejects(target, path, rejects) if rejects else None
        if unwritten is not None:  # the first error stays the one raised
            error.add_note(f"the rows refused before it: the rejects file {unwritten}")
        if not isinstance(error, CsvImportError) or not (stored or rejects):
            raise
        said = [error.reason]
        if stored:  # say what the batches before it left stored
            said.append(f"the {counted(stored, 'row')} stored before it stay")
        if rejects and unwritten is None:
            said.append(f"the rows refused before it are in {target.name}")
        elif rejects:
            said.append(f"the rows refused before it are not listed: the rejects file {unwritten}")
        said[-1] += ", and the import run again once the file is fixed adds the rest"
        raise CsvImportError(path, error.line, "; ".join(said)) from None
    if not rejects:
        try:
            target.unlink(missing_ok=True)  # an earlier run's report no longer holds
        except OSError as failed:
            raise CsvImportError(
                path,
                0,
                f"{counted(stored, 'row')} stored and none refused, but the rejects file of an "
                f"earlier run, {target.name}, cannot be removed ({failed.strerror}): remove it",
            ) from None
    elif (unwritten := _write_rejects(target, path, rejects)) is not None:
        raise CsvImportError(
            path,
            0,
            f"{counted(stored, 'row')} stored and {len(rejects):,} refused, but the rejects file "
            f"{unwritten}; run the same import again where it can be written (or with another "
            "rejects_path) to list the refused rows",
        )
    return ImportResult(
        path, kind, rows, stored, present, len(rejects), target if rejects else None
    )
