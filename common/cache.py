"""The shared cache (Redis) that never takes a request down with it.

Sessions and signed-in users are read from it on every request; when Redis is unreachable a
read is a miss (the session and the user come from PostgreSQL, as before) and a write or delete
is logged and dropped, each failing within the socket timeouts set in settings.
"""

from __future__ import annotations

import logging

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)
DOWN = (RedisConnectionError, RedisTimeoutError, OSError)


class ForgivingRedisCache(RedisCache):
    def get(self, key, default=None, version=None):
        try:
            return super().get(key, default, version)
        except DOWN as exc:
            log.warning("cache read skipped: %s", exc)
            return default

    def get_many(self, keys, version=None):
        try:
            return super().get_many(keys, version)
        except DOWN as exc:
            log.warning("cache read skipped: %s", exc)
            return {}

    def set(self, key, value, timeout=None, version=None):
        try:
            super().set(key, value, timeout, version)
        except DOWN as exc:
            log.warning("cache write dropped: %s", exc)

    def add(self, key, value, timeout=None, version=None):
        try:
            return super().add(key, value, timeout, version)
        except DOWN as exc:
            log.warning("cache write dropped: %s", exc)
            return False

    def delete(self, key, version=None):
        try:
            return super().delete(key, version)
        except DOWN as exc:
            log.warning("cache delete dropped: %s", exc)
            return False

    def delete_many(self, keys, version=None):
        try:
            super().delete_many(keys, version)
        except DOWN as exc:
            log.warning("cache delete dropped: %s", exc)
