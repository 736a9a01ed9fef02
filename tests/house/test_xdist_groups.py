"""The suite's split over two workers (make test: -n 2 --dist loadgroup) keeps
what must stay together together, and keeps pytest-django's order."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.xdist_group("house_probe")


def _under_loadgroup(config) -> bool:
    return bool(getattr(config.option, "loadgroup", False)) or (
        getattr(config.option, "dist", "no") == "loadgroup"
    )


def test_an_xdist_group_is_sent_to_one_worker_as_a_unit(request):
    """pytest-xdist marks a grouped test's id with its group; the scheduler
    sends the tests with one mark to one worker only by that mark. pytest 9.2
    drops it (requirements.txt pins 9.1.1), and the PgBouncer, replica and
    bench groups were then split, one worker waiting on the other's lock."""
    if not _under_loadgroup(request.config):
        pytest.skip("only under --dist loadgroup (make test)")
    assert request.node.nodeid.endswith("@house_probe")


def test_groups_keep_the_collection_order(request):
    """Without it, xdist sends the largest groups first: transactional tests
    that empty the tables migrations seeded before the plain database tests
    that read them (9 such failures on PostgreSQL)."""
    assert request.config.option.loadscopereorder is False
