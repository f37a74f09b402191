package limitcount

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is the Remote of policy redis: one fixed-window counter per key,
// INCR and a first-hit expiry in one atomic script, one round trip.
type Redis struct {
	c      *redis.Client
	prefix string
}

// incrScript counts a hit; the key expires with its window, so Redis holds
// only the current windows' keys.
var incrScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`)

// Timeouts of one counting call: a slow Redis must not hold requests up
// for long; the filter then counts locally.
const (
	redisDialTimeout = 250 * time.Millisecond
	redisIOTimeout   = 200 * time.Millisecond
)

// NewRedis connects lazily to the Redis at url (redis://[user:pass@]host:port/db,
// rediss:// for TLS). Every key starts with prefix (default "portico:").
// It does no I/O: an unreachable Redis shows on the first request, which
// then counts locally.
func NewRedis(url, prefix string) (*Redis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	opt.DialTimeout = redisDialTimeout
	opt.ReadTimeout = redisIOTimeout
	opt.WriteTimeout = redisIOTimeout
	opt.MaxRetries = -1 // a failed call falls back to local counting at once
	opt.DisableIdentity = true
	if prefix == "" {
		prefix = "portico:"
	}
	return &Redis{c: redis.NewClient(opt), prefix: prefix}, nil
}

// Incr implements Remote.
func (r *Redis) Incr(ctx context.Context, key string, ttl time.Duration) (int64, error) {
	n, err := incrScript.Run(ctx, r.c, []string{key}, ttl.Milliseconds()).Int64()
	if err != nil {
		return 0, fmt.Errorf("redis incr: %w", err)
	}
	return n, nil
}

// SetNX stores key with an expiry of ttl unless it exists, and reports
// whether it stored it: hmac-auth's shared memory of used signatures.
func (r *Redis) SetNX(ctx context.Context, key string, ttl time.Duration) (bool, error) {
	ok, err := r.c.SetNX(ctx, key, 1, ttl).Result()
	if err != nil {
		return false, fmt.Errorf("redis set nx: %w", err)
	}
	return ok, nil
}

// Prefix implements Remote.
func (r *Redis) Prefix() string { return r.prefix }

// Ping checks the connection (startup log only: the gateway starts either way).
func (r *Redis) Ping(ctx context.Context) error {
	if err := r.c.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis ping: %w", err)
	}
	return nil
}

// Close closes the connection pool.
func (r *Redis) Close() error {
	if err := r.c.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
		return fmt.Errorf("close redis: %w", err)
	}
	return nil
}
