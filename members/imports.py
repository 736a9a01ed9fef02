"""Bulk CSV import of members (and the reading and reporting shared with the
purchase import in rewards.imports).

Every row gets the checks and bonuses of the service a till or the Counter
uses (member_enroll), through its set-based twin members_enroll_many: a chunk
of CHUNK rows is checked with one query per kind of duplicate and written with
bulk_create in one transaction. A bad row stops nothing: it is reported with
its line number, column and message, and nothing of it is written. Re-running a
file is harmless: a phone that is already enrolled is skipped.

A file from an earlier loyalty program also brings consents with their dates
(CONSENT_COLUMNS) and what the apps above register in members.import_columns
(rewards: the opening balance with its expiry, the tier), written in the same
transaction as the members. A dry run is a real run rolled back at the end, so
its report is the one a real run would give.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from members.cards import card_number_is_valid
from members.errors import ServiceError
from members.import_columns import ImportPart, import_columns_registered
from members.models import ConsentSource, Member, Store
from members.phones import phone_normalize
from members.services import (
    CARD_MAX_LENGTH,
    EnrollInput,
    MemberAlreadyEnrolled,
    members_enroll_many,
)

CHUNK = 500
MEMBER_COLUMNS = (
    "phone",
    "email",
    "first_name",
    "last_name",
    "birthday",
    "card_number",
    "store",
)
CONSENT_COLUMNS = ("email_consent", "email_consent_at", "sms_consent", "sms_consent_at")
MEMBER_REQUIRED = ("phone",)
CONSENT_YES = frozenset({"yes", "y", "true", "1"})
CONSENT_NO = frozenset({"", "no", "n", "false", "0"})
NAME_MAX_LENGTH = 80  # Member.first_name / last_name

Progress = Callable[[int, int], None]


class CsvUnreadable(Exception):
    """The file as a whole cannot be imported (not a CSV, wrong columns, empty)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class RowError:
    line: int
    column: str
    message: str


@dataclass
class ImportResult:
    """What an import did: counts and the errors of the rows it refused."""

    total: int = 0  # data rows read
    imported: int = 0  # rows (members or receipts) written
    skipped: int = 0  # already there: an enrolled phone, a receipt replayed
    errors: list[RowError] = field(default_factory=list)
    notes: list[RowError] = field(default_factory=list)  # written, with a remark
    dry_run: bool = False

    @property
    def failed(self) -> int:
        return len({error.line for error in self.errors})

    def error(self, line: int, column: str, message: str) -> None:
        self.errors.append(RowError(line, column, str(message)))


@dataclass(frozen=True)
class CsvRow:
    line: int
    data: dict[str, str]

    def get(self, column: str) -> str:
        return (self.data.get(column) or "").strip()


def csv_read(
    content: bytes | str, *, required: Iterable[str], known: Iterable[str]
) -> list[CsvRow]:
    """The data rows of a CSV file, with their line numbers, or CsvUnreadable.

    UTF-8 with or without a BOM; comma or semicolon separated (spreadsheets in
    many locales write semicolons); header names are matched case-insensitively.
    Columns other than `known` are refused, since a misspelt optional column
    would otherwise be ignored without a word.
    """
    if isinstance(content, bytes):
        if b"\x00" in content[:4096]:
            raise CsvUnreadable(
                _("This is not a CSV file. Save the sheet as “CSV UTF-8”.")
            )
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise CsvUnreadable(
                _(
                    "The file is not UTF-8 text. Save the sheet as “CSV UTF-8” "
                    "and upload it again."
                )
            ) from None
    content = content.removeprefix("\ufeff")
    if not content.strip():
        raise CsvUnreadable(_("The file is empty."))
    header_line = content.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter)
    try:
        header = next(reader)
        while not any(cell.strip() for cell in header):
            header = next(reader)
    except (StopIteration, csv.Error):
        raise CsvUnreadable(_("The file is empty.")) from None
    names = [cell.strip().lower().lstrip("\ufeff") for cell in header]
    known = set(known)
    unknown = [name for name in names if name and name not in known]
    missing = [name for name in required if name not in names]
    if unknown or missing:
        parts = []
        if missing:
            parts.append(
                _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)}
            )
        if unknown:
            parts.append(
                _("Unknown column(s): %(columns)s.")
                % {"columns": ", ".join(unknown[:10])}
            )
        parts.append(
            _("The columns are: %(columns)s. Download the template to start from.")
            % {"columns": ", ".join(sorted(known))}
        )
        raise CsvUnreadable(" ".join(parts))
    rows = []
    try:
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue
            # line_num is the last physical line of the record; a quoted value
            # spanning lines is rare in these files.
            rows.append(CsvRow(reader.line_num, dict(zip(names, cells, strict=False))))
    except csv.Error as exc:
        raise CsvUnreadable(
            _("The file cannot be read as CSV near line %(line)s: %(error)s")
            % {"line": reader.line_num, "error": exc}
        ) from None
    if not rows:
        raise CsvUnreadable(_("The file has a header but no rows."))
    return rows


def csv_template(columns: Iterable[str], example: Iterable[str]) -> list[list[str]]:
    """The rows of an import template: the columns and one example row."""
    return [list(columns), list(example)]


MEMBERS_TEMPLATE_EXAMPLE = (
    "067 123 45 67",
    "olena@example.com",
    "Olena",
    "Kovalenko",
    "1990-05-17",
    "",
    "main",
)


CONSENT_TEMPLATE_EXAMPLE = ("yes", "2021-03-04", "no", "")


def member_columns() -> tuple[str, ...]:
    """Every column a member file may have: members' own, the consents, and
    those the apps above registered (members.import_columns)."""
    extra = [c for part in import_columns_registered() for c in part.columns]
    return (*MEMBER_COLUMNS, *CONSENT_COLUMNS, *extra)


def members_csv_read(content: bytes | str) -> list[CsvRow]:
    return csv_read(content, required=MEMBER_REQUIRED, known=member_columns())


def members_template() -> list[list[str]]:
    extra = [e for part in import_columns_registered() for e in part.example]
    return csv_template(
        member_columns(),
        (*MEMBERS_TEMPLATE_EXAMPLE, *CONSENT_TEMPLATE_EXAMPLE, *extra),
    )


def stores_by_code() -> dict[str, Store]:
    return {store.code.lower(): store for store in Store.objects.all()}


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


@dataclass
class _MemberRow:
    row: CsvRow
    phone: str
    email: str
    first_name: str
    last_name: str
    birthday: dt.date | None
    card_number: str | None
    store: Store | None
    consents: dict[str, dt.datetime | None]  # channel → when, for those given
    extras: list  # one value per ImportPart of the run


def consent_time_parse(text: str) -> dt.datetime:
    """A date (midnight) or a date and time, in the site's time zone unless
    it says its own; ValueError otherwise."""
    value = dt.datetime.fromisoformat(text)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _consents_clean(
    row: CsvRow, result: ImportResult, now: dt.datetime
) -> dict[str, dt.datetime | None]:
    consents: dict[str, dt.datetime | None] = {}
    for channel in ("email", "sms"):
        column, at_column = f"{channel}_consent", f"{channel}_consent_at"
        answer, at_text = row.get(column).lower(), row.get(at_column)
        if answer not in CONSENT_YES | CONSENT_NO:
            result.error(
                row.line,
                column,
                _("“%(value)s” is neither yes nor no.") % {"value": row.get(column)},
            )
            continue
        at = None
        if at_text:
            try:
                at = consent_time_parse(at_text)
            except ValueError:
                result.error(
                    row.line,
                    at_column,
                    _("“%(value)s” is not a date such as 2021-03-04.")
                    % {"value": at_text},
                )
                continue
            if at > now:
                result.error(row.line, at_column, _("The date is in the future."))
                continue
        if answer in CONSENT_YES:
            consents[channel] = at
        elif at is not None:
            result.error(
                row.line,
                at_column,
                _("A consent date is given, but %(column)s is not “yes”.")
                % {"column": column},
            )
    return consents


def _member_row_clean(
    row: CsvRow,
    *,
    store: Store | None,
    stores: dict[str, Store],
    result: ImportResult,
    parts: list[ImportPart],
    now: dt.datetime,
) -> _MemberRow | None:
    """The row's values checked and converted, or None with the errors recorded."""
    errors_before = len(result.errors)
    phone = ""
    try:
        phone = phone_normalize(row.get("phone"))
    except ServiceError as exc:
        result.error(row.line, "phone", exc.message)
    birthday = None
    if row.get("birthday"):
        try:
            birthday = _date(row.get("birthday"))
        except ValueError:
            result.error(
                row.line,
                "birthday",
                _("“%(value)s” is not a date such as 1990-05-17.")
                % {"value": row.get("birthday")},
            )
    row_store = store
    if row.get("store"):
        row_store = stores.get(row.get("store").lower())
        if row_store is None:
            result.error(
                row.line,
                "store",
                _("No store has the code “%(code)s”.") % {"code": row.get("store")},
            )
    if row.get("email"):
        try:
            validate_email(row.get("email"))
        except ValidationError:
            result.error(
                row.line,
                "email",
                _("“%(value)s” is not an email address.") % {"value": row.get("email")},
            )
    for column in ("first_name", "last_name"):
        if len(row.get(column)) > NAME_MAX_LENGTH:
            result.error(
                row.line,
                column,
                _("At most %(max)s characters.") % {"max": NAME_MAX_LENGTH},
            )
    card = row.get("card_number").replace(" ", "").replace("-", "") or None
    if card and not (card_number_is_valid(card) and len(card) <= CARD_MAX_LENGTH):
        result.notes.append(
            RowError(
                row.line,
                "card_number",
                _("“%(card)s” is not a valid card number; a new one was drawn.")
                % {"card": card},
            )
        )
        card = None
    consents = _consents_clean(row, result, now)

    def error(column: str, message: str) -> None:
        result.error(row.line, column, message)

    extras = [part.row_clean(row, error) for part in parts]
    if len(result.errors) > errors_before:
        return None
    return _MemberRow(
        row=row,
        phone=phone,
        email=row.get("email"),
        first_name=row.get("first_name"),
        last_name=row.get("last_name"),
        birthday=birthday,
        card_number=card,
        store=row_store,
        consents=consents,
        extras=extras,
    )


def chunks(items: list, size: int) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def members_import(
    rows: list[CsvRow],
    *,
    store: Store | None = None,
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportResult:
    """Enroll the members of a CSV file, a chunk of rows at a time through
    members_enroll_many (member_enroll's checks and bonuses, set-based).

    `store` is the home store of rows without a store code. A phone that is
    already enrolled is skipped and left as it is (re-running a file is
    harmless; the import never overwrites what a member changed since). A card
    number from the earlier system is kept when its check digit is right,
    otherwise a new one is drawn and a note says so; a card another member
    has refuses the row. Consents given keep their dates (a consent history
    row each). Imported members get the program's welcome bonus like any
    enrollment. The columns of the apps above (members.import_columns) are
    checked with the row and written with its member.

    Each chunk is written in members_enroll_many's own transaction (one member
    at a time through member_enroll if a row raced with another enrollment);
    this function opens none and queues nothing. With `dry_run` the whole run
    happens in one transaction that is rolled back: the report is what a real
    run would give, and nothing is written.
    """
    return import_run(
        lambda durable: _members_import(
            rows, store=store, progress=progress, durable=durable
        ),
        dry_run=dry_run,
    )


def import_run(run: Callable[[bool], ImportResult], *, dry_run: bool) -> ImportResult:
    """Run an import, `run(durable)`: for real, each chunk in its own durable
    transaction; with `dry_run`, the whole run in one transaction that is then
    rolled back (its chunks' transactions nest, so not durable), so the report
    is what a real run would give and nothing is written."""
    if not dry_run:
        return run(True)
    with transaction.atomic():
        result = run(False)
        transaction.set_rollback(True)
    result.dry_run = True
    return result


def _members_import(
    rows: list[CsvRow],
    *,
    store: Store | None,
    progress: Progress | None,
    durable: bool,
) -> ImportResult:
    result = ImportResult(total=len(rows))
    stores = stores_by_code()
    parts = [columns.start() for columns in import_columns_registered()]
    now = timezone.now()
    done = 0
    for chunk in chunks(rows, CHUNK):
        cleaned = [
            clean
            for row in chunk
            if (
                clean := _member_row_clean(
                    row,
                    store=store,
                    stores=stores,
                    result=result,
                    parts=parts,
                    now=now,
                )
            )
        ]
        # A phone twice in the file: the second is skipped, as on a re-run.
        seen: set[str] = set()
        todo: list[_MemberRow] = []
        for clean in cleaned:
            if clean.phone in seen:
                result.skipped += 1
                continue
            seen.add(clean.phone)
            todo.append(clean)

        def created(pairs: list[tuple[int, Member]], todo=todo) -> None:
            for number, part in enumerate(parts):
                written = [
                    (member, todo[index].extras[number]) for index, member in pairs
                ]
                written = [(m, value) for m, value in written if value is not None]
                if written:
                    part.members_imported(written, now)

        outcomes = (
            members_enroll_many(
                rows=[
                    EnrollInput(
                        phone=clean.phone,
                        email=clean.email or None,
                        first_name=clean.first_name,
                        last_name=clean.last_name,
                        birthday=clean.birthday,
                        store=clean.store,
                        card_number=clean.card_number,
                        email_consent="email" in clean.consents,
                        email_consent_at=clean.consents.get("email"),
                        sms_consent="sms" in clean.consents,
                        sms_consent_at=clean.consents.get("sms"),
                    )
                    for clean in todo
                ],
                source=ConsentSource.IMPORT,
                created=created if parts else None,
                durable=durable,
            )
            if todo
            else []
        )
        for clean, outcome in zip(todo, outcomes, strict=True):
            exc = outcome.error
            if exc is None:
                result.imported += 1
            elif isinstance(exc, MemberAlreadyEnrolled) and exc.field == "phone":
                result.skipped += 1
            else:
                result.error(clean.row.line, exc.field or "phone", exc.message)
        done += len(chunk)
        if progress is not None:
            progress(done, len(rows))  # the command prints once a second
    result.errors.sort(key=lambda error: error.line)
    return result
