"""Django's Redis cache, with one client object per connection pool.

Django's RedisCacheClient builds a new `redis.Redis` for every cache call, and
building one fills its table of some 170 response callbacks: in a profile of
the dashboard and the till's earn request, a sixth of a millisecond per cache
call, two or three calls a request (the API rate limit, the branding, the
dashboard's panels). A `redis.Redis` is safe to share between threads (it
takes a connection from its pool for each command), so it is made once per
pool. settings.py puts this backend in place of Django's for CACHE_URL=redis://.
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


class RedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, object] = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client


# A sliding window's hit in one round trip (members.api.throttling): the
# current and previous periods' counts are read, and the current one counted
# only when the estimate is under the limit, atomically. Through Django's API
# that was three round trips (get_many, then incr's EXISTS and INCR).
_WINDOW_HIT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local estimate = previous * tonumber(ARGV[1]) + current
if estimate < tonumber(ARGV[2]) then
    if redis.call('INCR', KEYS[1]) == 1 then
        redis.call('EXPIRE', KEYS[1], ARGV[3])
    end
end
return tostring(estimate)
"""


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
        self._window_hit = None

    def sliding_window_hit(
        self,
        current: str,
        previous: str,
        *,
        previous_weight: float,
        limit: int,
        timeout: int,
    ) -> float:
        """The estimate before this hit, previous × previous_weight + current;
        the hit is counted in `current` (kept `timeout` seconds from its
        first hit) only when that estimate is under `limit`."""
        if self._window_hit is None:
            client = self._cache.get_client(write=True)
            self._window_hit = client.register_script(_WINDOW_HIT)
        keys = [
            self.make_and_validate_key(current),
            self.make_and_validate_key(previous),
        ]
        return float(self._window_hit(keys, [repr(previous_weight), limit, timeout]))
