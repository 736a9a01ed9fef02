"""The "source" segment condition: members by where they came from."""

import pytest

from campaigns.segments.conditions import SegmentError, condition_type
from campaigns.segments.definition import segment_validate
from campaigns.tests.segments.test_conditions import ids, make_member, one
from members.tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_members_by_source_is_and_is_not():
    store = StoreFactory(code="kyiv", name="Kyiv")
    till = make_member(store)
    online = make_member(store, source="online", utm_source="facebook")
    imported = make_member(store, source="import")
    assert ids(one("source", "is", ["online"])) == {online.pk}
    assert ids(one("source", "is", ["online", "import"])) == {online.pk, imported.pk}
    assert ids(one("source", "is_not", ["online"])) == {till.pk, imported.pk}
    assert ("partner", "Partner store") in [
        (v, str(label)) for v, label in condition_type("source").choices()
    ]


def test_an_unknown_source_is_refused():
    with pytest.raises(SegmentError, match="not one of the choices"):
        segment_validate(one("source", "is", ["tv"]))
