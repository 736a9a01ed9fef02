"""Tests that need the Redis server the machine runs (127.0.0.1:6379)."""

from __future__ import annotations

import socket

import pytest


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


needs_redis = pytest.mark.skipif(not redis_up(), reason="no Redis on 127.0.0.1:6379")
