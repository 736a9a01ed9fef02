"""Writes of segments: saving a rules segment, uploading a static one."""

from __future__ import annotations

import contextlib
import csv
import io
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from campaigns.locks import segment_lock
from campaigns.models import Segment, SegmentKind, SegmentStaticMember
from campaigns.reasons import (
    SEGMENT_ROW_EMPTY,
    SEGMENT_ROW_NO_MEMBER,
    SEGMENT_ROW_NOT_A_NUMBER,
)
from campaigns.segments.definition import segment_validate
from members.audit import StaffActor, audited_delete
from members.cards import card_number_is_valid
from members.errors import InvalidInput
from members.models import Member, User
from members.phones import phone_normalize
from rewards.reasons import reason_default_text, reason_render

MAX_ROWS = 100_000
IN_CHUNK = 500  # ids per IN (...) list: SQLite caps the parameters of a query
INSERT_CHUNK = 1000
HEADER_WORDS = ("phone", "card", "телефон", "карта", "картка", "номер", "number")


@dataclass
class UnmatchedRow:
    line: int
    value: str
    reason_code: str  # campaigns.reasons: rendered in each reader's language

    @property
    def reason(self) -> str:
        return reason_render(self.reason_code, {})


@dataclass
class SegmentImportResult:
    """What an upload did: rows read, rows that found a member, members newly
    added (a member already in the list, or twice in the file, is added once),
    and every row that found no one, with the reason."""

    rows: int = 0
    matched: int = 0
    added: int = 0
    unmatched: list[UnmatchedRow] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "matched": self.matched,
            "added": self.added,
            "unmatched": [
                {
                    "line": row.line,
                    "value": row.value,
                    "reason_code": row.reason_code,
                    # For a reader that knows no codes: the default language's.
                    "reason": reason_default_text(row.reason_code, {}),
                }
                for row in self.unmatched
            ],
        }


def segment_save(
    *,
    name: str,
    definition: dict | str | None,
    description: str = "",
    by: User | None,
    segment: Segment | None = None,
    kind: str | None = None,
) -> Segment:
    """Create or change a segment after checking its definition.

    A rules segment's definition is validated and stored normalised
    (campaigns.segments.definition.segment_validate; raises SegmentError naming the bad
    condition). A static segment (kind="static") has no definition; its
    members come from segment_import_csv. The kind of an existing segment does
    not change. Locks the segment row when changing it; queues nothing.
    """
    name = (name or "").strip()
    if not name:
        raise InvalidInput(_("Give the segment a name."), field="name")
    if len(name) > Segment._meta.get_field("name").max_length:
        raise InvalidInput(_("The name is too long."), field="name")
    kind = segment.kind if segment is not None else (kind or SegmentKind.RULES)
    if kind not in SegmentKind.values:
        raise InvalidInput(_("Unknown kind of segment."), field="kind")
    if kind == SegmentKind.STATIC:
        if definition not in (None, "", {}, {"op": "and", "conditions": []}):
            raise InvalidInput(
                _("An uploaded list has no conditions."), field="definition"
            )
        clean = {}
    else:
        clean = segment_validate(definition)
    with transaction.atomic():
        if segment is None:
            return Segment.objects.create(
                name=name,
                description=description or "",
                kind=kind,
                definition=clean,
                created_by=by,
                updated_by=by,
            )
        locked = segment_lock(segment_id=segment.pk)
        locked.name = name
        locked.description = description or ""
        locked.definition = clean
        locked.updated_by = by
        locked.save(
            update_fields=[
                "name",
                "description",
                "definition",
                "updated_by",
                "updated_at",
            ]
        )
        return locked


def segment_csv_read(content: bytes | str) -> list[tuple[int, str]]:
    """(line, value) of each data row: the phone/card column if the header
    names one, else the first column; a first row without digits is a header."""
    if isinstance(content, bytes):
        if b"\x00" in content[:4096]:
            raise InvalidInput(
                _("This is not a CSV file. Save the sheet as “CSV UTF-8”."),
                field="file",
            )
        try:
            content = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(
                _(
                    "The file is not UTF-8 text. Save the sheet as “CSV UTF-8” "
                    "and upload it again."
                ),
                field="file",
            ) from None
    content = content.removeprefix("\ufeff")
    if not content.strip():
        raise InvalidInput(_("The file is empty."), field="file")
    first = content.lstrip("\r\n").split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    try:
        rows = list(csv.reader(io.StringIO(content, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise InvalidInput(
            _("The file cannot be read as CSV: %(error)s") % {"error": exc},
            field="file",
        ) from None
    column = 0
    out: list[tuple[int, str]] = []
    header_seen = False
    for line, row in enumerate(rows, start=1):
        cells = [cell.strip() for cell in row]
        if not any(cells):
            continue
        if not header_seen:
            header_seen = True
            if not any(ch.isdigit() for ch in "".join(cells)):
                names = [cell.lower() for cell in cells]
                column = next(
                    (
                        i
                        for i, cell in enumerate(names)
                        if any(word in cell for word in HEADER_WORDS)
                    ),
                    0,
                )
                continue
        out.append((line, cells[column] if column < len(cells) else ""))
    if len(out) > MAX_ROWS:
        raise InvalidInput(
            _("The file has %(rows)s rows; upload at most %(max)s at once.")
            % {"rows": len(out), "max": MAX_ROWS},
            field="file",
        )
    return out


def _lookup(column: str, values: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    ordered = sorted(values)
    for start in range(0, len(ordered), IN_CHUNK):
        chunk = ordered[start : start + IN_CHUNK]
        found.update(
            Member.objects.filter(**{f"{column}__in": chunk}).values_list(column, "pk")
        )
    return found


def segment_import_csv(
    *, segment: Segment, file, by: User | None, replace: bool = False
) -> SegmentImportResult:
    """Add the members listed in a CSV file (phones or card numbers) to a
    static segment; `replace` empties the list first.

    Each row's value is tried as a card number (spaces and dashes allowed,
    check digit verified) and as a phone (normalised to E.164 like everywhere
    else); a row matching no member is reported with the reason, never dropped
    in silence, and the report is kept on the segment (`import_summary`).
    Members are looked up in chunks and inserted with one bulk insert per
    thousand rows. Locks the segment row, so two uploads to one list queue up.
    Raises InvalidInput (field "file") for an unreadable file and for a rules
    segment.
    """
    if segment.kind != SegmentKind.STATIC:
        raise InvalidInput(
            _("Only an uploaded-list segment takes a file."), field="file"
        )
    content = file.read() if hasattr(file, "read") else file
    values = segment_csv_read(content)
    result = SegmentImportResult(rows=len(values))

    cards: dict[int, str] = {}
    phones: dict[int, str] = {}
    for line, value in values:
        digits = "".join(ch for ch in value if ch.isdigit())
        compact = value.replace(" ", "").replace("-", "")
        if digits and compact == digits and card_number_is_valid(digits):
            cards[line] = digits
        with contextlib.suppress(InvalidInput):
            phones[line] = phone_normalize(value)
    by_card = _lookup("card_number", set(cards.values()))
    by_phone = _lookup("phone", set(phones.values()))

    member_ids: list[int] = []
    for line, value in values:
        member_id = by_card.get(cards.get(line, "")) or by_phone.get(
            phones.get(line, "")
        )
        if member_id:
            result.matched += 1
            member_ids.append(member_id)
            continue
        if not value:
            reason = SEGMENT_ROW_EMPTY
        elif line in cards or line in phones:
            reason = SEGMENT_ROW_NO_MEMBER
        else:
            reason = SEGMENT_ROW_NOT_A_NUMBER
        result.unmatched.append(UnmatchedRow(line, value, reason))
    unique_ids = list(dict.fromkeys(member_ids))

    with transaction.atomic():
        locked = segment_lock(segment_id=segment.pk)
        if replace:
            SegmentStaticMember.objects.filter(segment=locked).delete()
            present: set[int] = set()
        else:
            present = set()
            for start in range(0, len(unique_ids), IN_CHUNK):
                present.update(
                    SegmentStaticMember.objects.filter(
                        segment=locked,
                        member_id__in=unique_ids[start : start + IN_CHUNK],
                    ).values_list("member_id", flat=True)
                )
        new = [pk for pk in unique_ids if pk not in present]
        SegmentStaticMember.objects.bulk_create(
            [SegmentStaticMember(segment=locked, member_id=pk) for pk in new],
            batch_size=INSERT_CHUNK,
            ignore_conflicts=True,
        )
        result.added = len(new)
        locked.import_summary = {
            "file": str(getattr(file, "name", "") or ""),
            "at": timezone.now().isoformat(),
            "by": getattr(by, "username", ""),
            "replaced": replace,
            **result.as_dict(),
        }
        locked.updated_by = by
        locked.save(update_fields=["import_summary", "updated_by", "updated_at"])
    return result


def segment_delete(*, segment: Segment, actor: StaffActor | None = None) -> None:
    """Delete a segment and its static member list, with the audit row of
    `actor`. A campaign protects its segment (ProtectedError). Queues nothing."""
    audited_delete(obj=segment, actor=actor)


def segment_static_create(
    *,
    name: str,
    description: str,
    member_ids: list[int],
    source: dict,
    by: User | None,
) -> Segment:
    """A static segment holding exactly these members, for an app that picked
    them (analytics' RFM segments). `source` says where they came from (kept as
    the segment's definition). One INSERT of the segment, then one per 5,000
    members, in one transaction. Locks nothing; queues nothing."""
    with transaction.atomic(durable=True):
        segment = Segment.objects.create(
            name=name,
            description=description,
            kind=SegmentKind.STATIC,
            definition=source,
            created_by=by,
        )
        SegmentStaticMember.objects.bulk_create(
            [SegmentStaticMember(segment=segment, member_id=pk) for pk in member_ids],
            batch_size=5000,
        )
    return segment
