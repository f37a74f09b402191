package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/portico-gw/portico/internal/gateway/plugin/proxycache"
)

// newCacheRegistry makes proxy-cache's stores, kept across reloads, with
// the gateway's Redis (--redis, the connection limit-count's policy redis
// uses) for configurations of strategy redis. Without --redis they keep
// their entries in memory.
func newCacheRegistry(opts Options, log *slog.Logger) (*proxycache.Registry, func()) {
	reg := proxycache.NewRegistry()
	if opts.RedisURL == "" {
		return reg, func() {}
	}
	r, err := newCacheRedis(opts.RedisURL, opts.RedisPrefix)
	if err != nil {
		// Run checked the URL when it made limit-count's client.
		log.Warn("proxy-cache cannot use Redis; strategy redis keeps entries in memory", "err", err)
		return reg, func() {}
	}
	reg.UseRemote(r)
	return reg, func() { reg.UseRemote(nil); _ = r.c.Close() }
}

// cacheRedis is proxycache.Remote on go-redis: values under the
// gateway's prefix and "pc:".
type cacheRedis struct {
	c      *redis.Client
	prefix string
}

func newCacheRedis(url, prefix string) (*cacheRedis, error) {
	opt, err := redis.ParseURL(url)
	if err != nil {
		return nil, fmt.Errorf("redis URL: %w", err)
	}
	opt.DialTimeout = 250 * time.Millisecond
	opt.ReadTimeout = 200 * time.Millisecond
	opt.WriteTimeout = 200 * time.Millisecond
	opt.MaxRetries = -1 // a failed lookup is a miss at once
	opt.DisableIdentity = true
	if prefix == "" {
		prefix = "portico:"
	}
	return &cacheRedis{c: redis.NewClient(opt), prefix: prefix + "pc:"}, nil
}

func (r *cacheRedis) Get(ctx context.Context, key string) ([]byte, error) {
	v, err := r.c.Get(ctx, r.prefix+key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("redis get: %w", err)
	}
	return v, nil
}

func (r *cacheRedis) Set(ctx context.Context, key string, value []byte, ttl time.Duration) error {
	if err := r.c.Set(ctx, r.prefix+key, value, ttl).Err(); err != nil {
		return fmt.Errorf("redis set: %w", err)
	}
	return nil
}

func (r *cacheRedis) Del(ctx context.Context, key string) error {
	if err := r.c.Del(ctx, r.prefix+key).Err(); err != nil {
		return fmt.Errorf("redis del: %w", err)
	}
	return nil
}
