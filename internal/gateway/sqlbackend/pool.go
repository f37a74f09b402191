package sqlbackend

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/portico-gw/portico/internal/spec"
)

// Pool defaults.
const (
	DefaultMaxOpen        = 10
	DefaultAcquireTimeout = 50 * time.Millisecond
	DefaultMaxTotal       = 256 // connections one gateway opens to all data sources
	connectTimeout        = 5 * time.Second
	// closeDelay keeps a replaced pool open for the requests of the
	// previous table still running on it.
	closeDelay = 30 * time.Second
)

// Pool is one gateway's connections to one data source at one
// configuration. A request holds a slot from acquire to the end of its
// answer, so database/sql never queues: a full pool answers 503 at once
// instead of letting requests pile up behind it.
type Pool struct {
	ID, Name string
	Dialect  string
	DB       *sql.DB
	hash     string
	sem      chan struct{}
	total    chan struct{} // the gateway's limit over all data sources
	wait     time.Duration

	queries, errors atomic.Int64
	latencyNanos    atomic.Int64
}

// acquire takes a connection slot of the data source and of the gateway,
// waiting at most the pool's acquire timeout.
func (p *Pool) acquire() (release func(), ok bool) {
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	take := func(c chan struct{}) bool {
		select {
		case c <- struct{}{}:
			return true
		default:
		}
		if timer == nil {
			timer = time.NewTimer(p.wait)
		}
		select {
		case c <- struct{}{}:
			return true
		case <-timer.C:
			return false
		}
	}
	if !take(p.sem) {
		return nil, false
	}
	if p.total != nil && !take(p.total) {
		<-p.sem
		return nil, false
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			if p.total != nil {
				<-p.total
			}
			<-p.sem
		})
	}, true
}

// observe records one statement.
func (p *Pool) observe(d time.Duration, failed bool) {
	p.queries.Add(1)
	p.latencyNanos.Add(int64(d))
	if failed {
		p.errors.Add(1)
	}
}

// Registry keeps the pools of a gateway across config revisions,
// keyed by data source id and a hash of its configuration: a
// reload with the same data source keeps its connections; a changed one
// gets a new pool and the old closes once its requests are done.
type Registry struct {
	mu    sync.Mutex
	pools map[string]*Pool
	total chan struct{}
}

// NewRegistry returns a registry whose pools together hold at most
// maxTotal connections (0: DefaultMaxTotal).
func NewRegistry(maxTotal int) *Registry {
	if maxTotal <= 0 {
		maxTotal = DefaultMaxTotal
	}
	return &Registry{pools: map[string]*Pool{}, total: make(chan struct{}, maxTotal)}
}

// Get returns the pool of a data source, opening it (lazily: no
// connection is made until a request needs one) when it is new or changed.
func (r *Registry) Get(ds *spec.DataSource) (*Pool, error) {
	h := configHash(ds)
	r.mu.Lock()
	defer r.mu.Unlock()
	if p, ok := r.pools[ds.ID]; ok && p.hash == h {
		return p, nil
	}
	p, err := newPool(ds)
	if err != nil {
		return nil, err
	}
	p.hash, p.total = h, r.total
	if old, ok := r.pools[ds.ID]; ok {
		closeLater(old)
	}
	r.pools[ds.ID] = p
	return p, nil
}

// Retain closes the pools of data sources no longer used.
func (r *Registry) Retain(ids map[string]bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, p := range r.pools {
		if !ids[id] {
			closeLater(p)
			delete(r.pools, id)
		}
	}
}

// Close closes every pool now (gateway shutdown).
func (r *Registry) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for id, p := range r.pools {
		_ = p.DB.Close()
		delete(r.pools, id)
	}
}

func closeLater(p *Pool) {
	time.AfterFunc(closeDelay, func() { _ = p.DB.Close() })
}

func configHash(ds *spec.DataSource) string {
	b, _ := json.Marshal([]any{ds.Type, ds.Host, ds.EffectivePort(), ds.Database, ds.User, ds.Secret, ds.Params, ds.Pool})
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func newPool(ds *spec.DataSource) (*Pool, error) {
	db, err := Open(ds)
	if err != nil {
		return nil, err
	}
	maxOpen, wait := DefaultMaxOpen, DefaultAcquireTimeout
	if pc := ds.Pool; pc != nil {
		if pc.MaxOpen > 0 {
			maxOpen = pc.MaxOpen
		}
		if pc.AcquireTimeout > 0 {
			wait = time.Duration(pc.AcquireTimeout * float64(time.Second))
		}
	}
	return &Pool{ID: ds.ID, Name: ds.Name, Dialect: ds.Type, DB: db,
		sem: make(chan struct{}, maxOpen), wait: wait}, nil
}

// Open returns a database/sql handle on a data source with its pool
// limits; it connects lazily. ds.Secret is the password in clear.
func Open(ds *spec.DataSource) (*sql.DB, error) {
	addr := net.JoinHostPort(ds.Host, strconv.Itoa(ds.EffectivePort()))
	var db *sql.DB
	switch ds.Type {
	case spec.DataSourcePostgres:
		q := url.Values{}
		for k, v := range ds.Params {
			q.Set(k, v)
		}
		if !q.Has("connect_timeout") { // the data source's own wins, as with MySQL's timeout
			q.Set("connect_timeout", strconv.Itoa(int(connectTimeout/time.Second)))
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword(ds.User, ds.Secret), Host: addr,
			Path: "/" + ds.Database, RawQuery: q.Encode()}
		cfg, err := pgx.ParseConfig(u.String())
		if err != nil {
			return nil, fmt.Errorf("data source %s: %w", ds.Name, redact(err, ds.Secret))
		}
		db = stdlib.OpenDB(*cfg)
	case spec.DataSourceMySQL:
		cfg := mysql.NewConfig()
		cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName = ds.User, ds.Secret, "tcp", addr, ds.Database
		cfg.ParseTime, cfg.Timeout = true, connectTimeout
		dsn := cfg.FormatDSN()
		if len(ds.Params) > 0 {
			q := url.Values{}
			for k, v := range ds.Params {
				q.Set(k, v)
			}
			dsn += "&" + q.Encode()
		}
		parsed, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("data source %s: %w", ds.Name, redact(err, ds.Secret))
		}
		conn, err := mysql.NewConnector(parsed)
		if err != nil {
			return nil, fmt.Errorf("data source %s: %w", ds.Name, redact(err, ds.Secret))
		}
		db = sql.OpenDB(conn)
	default:
		return nil, fmt.Errorf("data source %s: type %q is not supported", ds.Name, ds.Type)
	}
	maxOpen, life := DefaultMaxOpen, 30*time.Minute
	maxIdle := 0
	if pc := ds.Pool; pc != nil {
		if pc.MaxOpen > 0 {
			maxOpen = pc.MaxOpen
		}
		maxIdle = pc.MaxIdle
		if pc.MaxLifetime > 0 {
			life = time.Duration(pc.MaxLifetime * float64(time.Second))
		}
	}
	if maxIdle <= 0 || maxIdle > maxOpen {
		maxIdle = maxOpen
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxLifetime(life)
	return db, nil
}

// redact keeps a password out of an error that quotes a connection string.
type redactedError struct{ msg string }

func (e redactedError) Error() string { return e.msg }

func redact(err error, secret string) error {
	if secret == "" || err == nil {
		return err
	}
	msg := err.Error()
	if !strings.Contains(msg, secret) {
		return err
	}
	return redactedError{msg: "invalid connection settings (details withheld: they quote the password)"}
}

// Ping connects to a data source and reports how long it took.
func Ping(ctx context.Context, ds *spec.DataSource) (time.Duration, error) {
	db, err := Open(ds)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	start := time.Now()
	if err := db.PingContext(ctx); err != nil {
		return time.Since(start), redact(err, ds.Secret)
	}
	return time.Since(start), nil
}
