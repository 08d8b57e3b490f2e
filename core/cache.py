"""Django's Redis cache with one ``redis.Redis`` client per connection pool.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object on every cache
call; the object is only a façade over the pool, but its constructor fills a table of ~170
response callbacks, which costs about as much as the Redis round trip itself. A cached map
tile makes two cache calls (the session and the tile), so that was a fifth of its time. A
``redis.Redis`` client is thread-safe (each command takes a connection from the pool), so one
per pool serves every thread.
"""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient


class PooledClientRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        # With several servers Django reads from a random replica: pick it once, then take
        # that server's pool and client (both built on first use; a race builds two equal ones).
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pools.get(index)
            if pool is None:
                pool = self._pools[index] = self._pool_class.from_url(
                    self._servers[index], **self._pool_options
                )
            client = self._clients[index] = self._client(connection_pool=pool)
        return client


class PooledRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = PooledClientRedisCacheClient
