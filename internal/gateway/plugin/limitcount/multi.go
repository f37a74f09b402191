package limitcount

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// Counters of several keys at once, for plan quotas (package quota, which
// names them in its Remote interface): the gateway has one Redis client,
// this one, whatever counts in it.

// takeAllScript counts one call in every key when each is below its limit
// (0: none) and otherwise in none, so a call one quota refuses costs no
// other quota. ARGV holds each key's limit and expiry (ms) in turn. The
// answer is 1 (admitted) or 0, then the keys' counts: after the call
// when admitted, before it when not.
var takeAllScript = redis.NewScript(`
local counts = {}
local ok = 1
for i, k in ipairs(KEYS) do
  local n = tonumber(redis.call('GET', k) or '0')
  local limit = tonumber(ARGV[2*i-1])
  counts[i] = n
  if limit > 0 and n >= limit then ok = 0 end
end
if ok == 1 then
  for i, k in ipairs(KEYS) do
    counts[i] = redis.call('INCR', k)
    if counts[i] == 1 then redis.call('PEXPIRE', k, ARGV[2*i]) end
  end
end
table.insert(counts, 1, ok)
return counts`)

// addAllScript adds ARGV[2i-1] to KEYS[i]; a new key expires after
// ARGV[2i] ms.
var addAllScript = redis.NewScript(`
for i, k in ipairs(KEYS) do
  local add = tonumber(ARGV[2*i-1])
  if redis.call('INCRBY', k, add) == add then redis.call('PEXPIRE', k, ARGV[2*i]) end
end
return #KEYS`)

// TakeAll counts one call in each key when all are below their limits,
// atomically (one script, one round trip).
func (r *Redis) TakeAll(ctx context.Context, keys []string, limits []int64, ttls []time.Duration) ([]int64, bool, error) {
	if len(limits) != len(keys) || len(ttls) != len(keys) {
		return nil, false, errors.New("redis take: keys, limits and ttls differ in number")
	}
	args := make([]any, 0, 2*len(keys))
	for i := range keys {
		args = append(args, limits[i], max(ttls[i].Milliseconds(), 1))
	}
	got, err := takeAllScript.Run(ctx, r.c, keys, args...).Int64Slice()
	if err != nil {
		return nil, false, fmt.Errorf("redis take: %w", err)
	}
	if len(got) != len(keys)+1 {
		return nil, false, fmt.Errorf("redis take: %d answers for %d keys", len(got), len(keys))
	}
	return got[1:], got[0] == 1, nil
}

// AddAll adds n[i] to keys[i] in one round trip.
func (r *Redis) AddAll(ctx context.Context, keys []string, n []int64, ttls []time.Duration) error {
	if len(n) != len(keys) || len(ttls) != len(keys) {
		return errors.New("redis add: keys, counts and ttls differ in number")
	}
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(keys))
	for i := range keys {
		args = append(args, n[i], max(ttls[i].Milliseconds(), 1))
	}
	if err := addAllScript.Run(ctx, r.c, keys, args...).Err(); err != nil {
		return fmt.Errorf("redis add: %w", err)
	}
	return nil
}

// Counts reads the keys' counts; a missing key counts 0.
func (r *Redis) Counts(ctx context.Context, keys []string) ([]int64, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	vals, err := r.c.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, fmt.Errorf("redis counts: %w", err)
	}
	out := make([]int64, len(vals))
	for i, v := range vals {
		s, ok := v.(string)
		if !ok {
			continue // missing
		}
		if out[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, fmt.Errorf("redis counts: key %s holds %q", keys[i], s)
		}
	}
	return out, nil
}
