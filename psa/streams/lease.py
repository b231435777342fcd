"""A lease in Redis: of several relays (or consumers) of one stream, one works at a time."""

from __future__ import annotations

import os
import socket
import uuid

import redis.asyncio as aioredis

# Take the lease if it is free, or extend it if it is ours; 1 if we hold it afterwards.
_HOLD = """
local owner = redis.call('GET', KEYS[1])
if owner == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not owner then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
  return 1
end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


def instance_name(role: str) -> str:
    """A name unique to this process, readable in XINFO and lease keys."""
    return f"{role}-{socket.gethostname()}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class Lease:
    """Held by one owner at a time; lapses `ttl_ms` after its holder stops extending it."""

    def __init__(self, client: aioredis.Redis, key: str, owner: str, ttl_ms: int) -> None:
        self.client = client
        self.key = key
        self.owner = owner
        self.ttl_ms = ttl_ms
        self._hold = client.register_script(_HOLD)
        self._release = client.register_script(_RELEASE)

    async def hold(self) -> bool:
        """Take or extend the lease; False while another owner holds it."""
        return bool(await self._hold(keys=[self.key], args=[self.owner, self.ttl_ms]))

    async def release(self) -> None:
        await self._release(keys=[self.key], args=[self.owner])
