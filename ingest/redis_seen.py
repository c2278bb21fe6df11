"""The seen-set of event ids in Redis: the last days' ids in per-day sets, claimed with the
events they belong to in one Lua script, atomically across processes (a process killed
between the two steps cannot leave ids claimed without their events).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
import redis

from ingest.dedup import WINDOW_DAYS, first_in_batch, id_hashes
from ingest.redis_client import PREFIX, buffer_key, depth_key, guard
from ingest.wal import encode

if TYPE_CHECKING:
    from ingest.buffer import BatchLog
    from ingest.wal import Record


_CLAIM_AND_ADD_LUA = """
-- KEYS: today's set, earlier days' sets…, the buffer stream, its depth counter.
-- ARGV: ttl, rows, blob, hashes joined by ','.
-- Only if every hash is new: claim them all AND append the batch, atomically, so a crash
-- can never leave ids claimed whose events were not buffered. Otherwise change nothing and
-- return the per-hash flags (1 = new) so the caller can drop the duplicates and retry.
local nk = #KEYS - 2
local ttl, rows, blob = ARGV[1], ARGV[2], ARGV[3]
local hashes = {}
for h in string.gmatch(ARGV[4], '[^,]+') do hashes[#hashes + 1] = h end
local n = #hashes
local flags = {}
local dup = false
for i = 1, n do flags[i] = 1 end
for k = 1, nk do
  if redis.call('EXISTS', KEYS[k]) == 1 then  -- skip days with no ids
    local i = 1
    while i <= n do
      local j = math.min(i + 999, n)
      local r = redis.call('SMISMEMBER', KEYS[k], unpack(hashes, i, j))
      for x = 1, #r do if r[x] == 1 then flags[i + x - 1] = 0; dup = true end end
      i = j + 1
    end
  end
end
if dup then return {0, flags} end
local i = 1
while i <= n do
  local j = math.min(i + 999, n)
  redis.call('SADD', KEYS[1], unpack(hashes, i, j))
  i = j + 1
end
redis.call('EXPIRE', KEYS[1], ttl)
local id = redis.call('XADD', KEYS[nk + 1], '*', 'f', blob, 'n', rows)
redis.call('INCRBY', KEYS[nk + 2], rows)
return {1, id}
"""


class RedisSeenSet:
    """Event ids of the last 7 days in per-day Redis sets, claimed atomically by Lua."""

    def __init__(self, client: redis.Redis) -> None:
        self.client = client
        self._claim_and_add = client.register_script(_CLAIM_AND_ADD_LUA)

    @guard
    def append_unique(self, stream: str, log: BatchLog[Record[str]], frame: pl.DataFrame,
                      now: datetime) -> np.ndarray:
        """Buffer the events of ``frame`` not seen within the window; returns the new-mask.

        Claiming ids and buffering their events happen in one Lua script: a process killed
        between the two steps cannot leave ids claimed without their events. ``log`` is a
        log of this Redis (its records are entry ids): the script appends to its stream.
        """
        hashes = id_hashes(frame["event_id"])
        new = first_in_batch(hashes)
        ttl = (WINDOW_DAYS + 1) * 86_400
        keys = [*self._keys(stream, now), buffer_key(log.name), depth_key(log.name)]
        while new.any():
            part = frame.filter(pl.Series(new)) if not new.all() else frame
            ok, payload = self._claim_and_add(
                keys=keys, args=[ttl, part.height, encode(part), ",".join(map(str, hashes[new].tolist()))])
            if ok == 1:
                break
            idx = np.flatnonzero(new)
            new[idx[~np.asarray(payload, dtype=bool)]] = False
        return new

    @staticmethod
    def _keys(stream: str, now: datetime) -> list[str]:
        """Today's set first, then the earlier days of the window."""
        today = now.astimezone(UTC).date()
        return [f"{PREFIX}:seen:{stream}:{(today - timedelta(days=d)).isoformat()}"
                for d in range(WINDOW_DAYS)]
