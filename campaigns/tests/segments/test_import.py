"""Static segments from a CSV of phones or card numbers."""

from __future__ import annotations

import io

import pytest

from campaigns.models import Segment, SegmentKind, SegmentStaticMember
from campaigns.segments.conditions import SegmentError
from campaigns.segments.selectors import segment_count
from campaigns.segments.services import segment_import_csv, segment_save
from campaigns.tests.segments.test_conditions import make_member
from members.cards import card_number_format
from members.errors import InvalidInput

pytestmark = pytest.mark.django_db


@pytest.fixture
def listing(marketer):
    return segment_save(
        name="Fair visitors", definition=None, by=marketer, kind=SegmentKind.STATIC
    )


def _listed(segment) -> set[int]:
    return set(
        SegmentStaticMember.objects.filter(segment=segment).values_list(
            "member_id", flat=True
        )
    )


def test_phones_in_any_local_form_and_cards_with_spaces_match(store, listing, marketer):
    a = make_member(store, phone="+380671234567")
    b = make_member(store)
    c = make_member(store)
    content = "\n".join(
        [
            "067 123 45 67",  # the national form of a's phone
            card_number_format(b.card_number),  # 2712 3456 ...
            c.card_number,
        ]
    )
    result = segment_import_csv(
        segment=listing, file=io.BytesIO(content.encode()), by=marketer
    )
    assert (result.rows, result.matched, result.added) == (3, 3, 3)
    assert result.unmatched == []
    assert _listed(listing) == {a.pk, b.pk, c.pk}
    assert segment_count(listing) == 3


def test_unmatched_rows_are_listed_with_reasons_and_kept(store, listing, marketer):
    a = make_member(store)
    content = (
        "card;name\n"
        f"{a.card_number};Olena\n"
        "+380 99 000 00 00;Nobody\n"
        "hello;Typo\n"
        ";Blank\n"
    )
    upload = io.BytesIO(content.encode())
    upload.name = "fair.csv"
    result = segment_import_csv(segment=listing, file=upload, by=marketer)
    assert result.matched == 1
    assert [(row.line, row.value, row.reason) for row in result.unmatched] == [
        (3, "+380 99 000 00 00", "no member with this card or phone"),
        (4, "hello", "neither a phone number nor a card number"),
        (5, "", "empty"),
    ]
    listing.refresh_from_db()
    summary = listing.import_summary
    assert summary["file"] == "fair.csv"
    assert summary["rows"] == 4 and summary["matched"] == 1 and summary["added"] == 1
    assert [row["line"] for row in summary["unmatched"]] == [3, 4, 5]
    assert summary["by"] == "marketer"


def test_why_a_row_matched_no_one_reads_in_the_readers_language(
    store, listing, marketer, settings
):
    from django.utils import translation

    from campaigns.reasons import unmatched_row_reason

    settings.LANGUAGE_CODE = "uk"
    segment_import_csv(segment=listing, file=b"card;name\nhello;Typo\n", by=marketer)
    listing.refresh_from_db()
    (row,) = listing.import_summary["unmatched"]
    assert row["reason_code"] == "segment_row_not_a_number"
    with translation.override("en"):
        english = unmatched_row_reason(row)
    with translation.override("uk"):
        ukrainian = unmatched_row_reason(row)
    assert english == "neither a phone number nor a card number"
    assert ukrainian != english
    assert row["reason"] == ukrainian  # the stored fallback: the default language
    # An upload kept before the codes shows the text stored then.
    assert unmatched_row_reason({"reason": "порожньо"}) == "порожньо"


def test_header_column_named_phone_is_used(store, listing, marketer):
    a = make_member(store)
    content = f"name,phone\nOlena,{a.phone}\n"
    result = segment_import_csv(segment=listing, file=content.encode(), by=marketer)
    assert result.matched == 1 and _listed(listing) == {a.pk}


def test_duplicates_and_members_already_listed_are_added_once(store, listing, marketer):
    a, b = make_member(store), make_member(store)
    segment_import_csv(segment=listing, file=a.phone.encode(), by=marketer)
    result = segment_import_csv(
        segment=listing,
        file=f"{a.phone}\n{a.card_number}\n{b.phone}\n".encode(),
        by=marketer,
    )
    assert result.matched == 3
    assert result.added == 1
    assert _listed(listing) == {a.pk, b.pk}


def test_replace_empties_the_list_first(store, listing, marketer):
    a, b = make_member(store), make_member(store)
    segment_import_csv(segment=listing, file=a.phone.encode(), by=marketer)
    segment_import_csv(
        segment=listing, file=b.phone.encode(), by=marketer, replace=True
    )
    assert _listed(listing) == {b.pk}


def test_import_runs_in_a_bounded_number_of_queries(
    store, listing, marketer, django_assert_max_num_queries
):
    members = [make_member(store) for _ in range(30)]
    content = "\n".join(m.phone for m in members[:15]) + "\n"
    content += "\n".join(m.card_number for m in members[15:]) + "\n"
    with django_assert_max_num_queries(10):
        result = segment_import_csv(segment=listing, file=content.encode(), by=marketer)
    assert result.added == 30


def test_rules_segment_takes_no_file(marketer):
    rules = segment_save(name="Rules", definition={}, by=marketer)
    with pytest.raises(
        InvalidInput, match="Only an uploaded-list segment takes a file."
    ):
        segment_import_csv(segment=rules, file=b"+380671234567", by=marketer)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "The file is empty."),
        (b"\xff\xfe\x00p\x00h", "This is not a CSV file."),
        ("телефон".encode("cp1251"), "The file is not UTF-8 text."),
    ],
)
def test_unreadable_files_are_refused(listing, marketer, content, message):
    with pytest.raises(InvalidInput, match=message):
        segment_import_csv(segment=listing, file=content, by=marketer)


def test_segment_save_validates_and_stores_normalised(marketer):
    with pytest.raises(SegmentError, match="Condition 1"):
        segment_save(
            name="Bad", definition={"conditions": [{"field": "x"}]}, by=marketer
        )
    with pytest.raises(InvalidInput, match="Give the segment a name."):
        segment_save(name="  ", definition={}, by=marketer)
    segment = segment_save(
        name="Kyiv speakers",
        definition='{"conditions": [{"field": "language", "op": "is", "value": "uk"}]}',
        by=marketer,
    )
    assert segment.definition == {
        "op": "and",
        "conditions": [{"field": "language", "op": "is", "value": ["uk"]}],
    }
    changed = segment_save(
        name="Kyiv speakers", definition={}, segment=segment, by=marketer
    )
    assert changed.pk == segment.pk and changed.definition == {
        "op": "and",
        "conditions": [],
    }
    assert Segment.objects.count() == 1


def test_static_segment_has_no_conditions(marketer):
    with pytest.raises(InvalidInput, match="An uploaded list has no conditions."):
        segment_save(
            name="List",
            definition={"conditions": [{"field": "tier", "op": "none"}]},
            by=marketer,
            kind=SegmentKind.STATIC,
        )
