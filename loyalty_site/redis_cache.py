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


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient
