"""`make test` runs `pytest -n 2 --dist loadgroup`: tests marked
`xdist_group(name)` must all go to one worker (the PgBouncer and replica tests
share the server they start, the benchmark smoke test one run of bench/run.py).
pytest-xdist does it by adding `@name` to the test's node id; pytest 9.2 keeps
node ids where xdist 3.8 cannot change them, and every group was silently split
across both workers (the benchmark run waited 83 s for the other worker's copy).
"""

from __future__ import annotations

import pytest


@pytest.mark.xdist_group("house_probe")
def test_a_grouped_test_carries_its_group_in_its_node_id(request):
    # Set on an xdist worker (xdist/remote.py) when the run is --dist loadgroup.
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("runs under `pytest -n N --dist loadgroup` (make test)")

    assert request.node.nodeid.endswith("@house_probe"), request.node.nodeid
