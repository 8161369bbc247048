package online

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// RedisOptions configure a Redis online store.
type RedisOptions struct {
	// Address is Feast's connection string: "host:port" optionally followed by ",ssl=true" and
	// ",db=N" (a password goes in Password, never here).
	Address  string
	Username string
	Password string
	Project  string
	// KeyVersion is the entity-key serialization version (2 or 3; 0 means 3).
	KeyVersion int
	// Timeout bounds each round trip (dial, read, write).
	Timeout time.Duration
}

// redisConn is the parsed connection string.
type redisConn struct {
	addr string
	db   int
	ssl  bool
}

// parseRedisAddress parses Feast's Redis connection string ("host:port[,ssl=true][,db=N]").
func parseRedisAddress(s string) (redisConn, error) {
	parts := strings.Split(strings.TrimSpace(s), ",")
	c := redisConn{addr: strings.TrimSpace(parts[0])}
	if c.addr == "" || !strings.Contains(c.addr, ":") || strings.Contains(c.addr, "/") {
		return c, fmt.Errorf("feast.onlineStore.address %q is not host:port", parts[0])
	}
	for _, p := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		switch strings.ToLower(k) {
		case "ssl":
			c.ssl = strings.EqualFold(v, "true")
		case "db":
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 1<<16 {
				return c, fmt.Errorf("feast.onlineStore.address: db=%q is not a database number", v)
			}
			c.db = n
		case "password":
			return c, errors.New("feast.onlineStore.address must not hold the password: put it in the secure field feastOnlinePassword")
		default:
			return c, fmt.Errorf("feast.onlineStore.address: unknown option %q (ssl, db)", k)
		}
	}
	return c, nil
}

// Redis reads Feast's Redis online store.
type Redis struct {
	client  *redis.Client
	project string
	version int
	// scanKeys caps the keys NewestEventTime scans (0: limits.FeastScanKeys).
	scanKeys int
}

// NewRedis returns a reader of the Redis online store (it connects lazily).
func NewRedis(o RedisOptions) (*Redis, error) {
	c, err := parseRedisAddress(o.Address)
	if err != nil {
		return nil, err
	}
	if o.KeyVersion == 0 {
		o.KeyVersion = DefaultKeyVersion
	}
	if err := CheckKeyVersion(o.KeyVersion); err != nil {
		return nil, err
	}
	if o.Project == "" {
		return nil, errors.New("feast.project is required to read the online store")
	}
	if o.Timeout <= 0 {
		o.Timeout = limits.DefaultTimeout
	}
	opts := &redis.Options{Addr: c.addr, DB: c.db, Username: o.Username, Password: o.Password,
		DialTimeout: o.Timeout, ReadTimeout: o.Timeout, WriteTimeout: o.Timeout, PoolSize: 4, MaxRetries: 1, DialerRetries: 1,
		ContextTimeoutEnabled: true, DisableIdentity: true}
	if c.ssl {
		host, _, _ := strings.Cut(c.addr, ":")
		opts.TLSConfig = &tls.Config{MinVersion: tls.VersionTLS12, ServerName: host}
	}
	return &Redis{client: redis.NewClient(opts), project: o.Project, version: o.KeyVersion}, nil
}

// NewRedisFromClient wraps an existing client (tests and the demo).
func NewRedisFromClient(c *redis.Client, project string, keyVersion int) *Redis {
	if keyVersion == 0 {
		keyVersion = DefaultKeyVersion
	}
	return &Redis{client: c, project: project, version: keyVersion}
}

// KeyVersion implements Store.
func (r *Redis) KeyVersion() int { return r.version }

// Ping implements Store.
func (r *Redis) Ping(ctx context.Context) error {
	return redisError(r.client.Ping(ctx).Err())
}

// Close implements Store.
func (r *Redis) Close() error { return r.client.Close() }

// redisError words a go-redis error for a query (it never holds the password).
func redisError(err error) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("redis online store: %w", err)
}

// Read implements Store: per batch of limits.FeastReadBatch entities one pipeline of HMGET
// key field(view:feature)... _ts:view, as Feast's own reader does.
func (r *Redis) Read(ctx context.Context, view string, features []string, keys []EntityKey) ([]Row, error) {
	fields := make([]string, 0, len(features)+1)
	for _, f := range features {
		fields = append(fields, string(FieldHash(view, f)))
	}
	fields = append(fields, TimestampField(view))
	ser := serializeAll(keys, r.version)
	rows := make([]Row, len(keys))
	for start := 0; start < len(keys); start += limits.FeastReadBatch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		end := min(start+limits.FeastReadBatch, len(keys))
		pipe := r.client.Pipeline()
		cmds := make([]*redis.SliceCmd, end-start)
		for i := start; i < end; i++ {
			if ser[i] == nil {
				continue
			}
			cmds[i-start] = pipe.HMGet(ctx, string(RedisKey(ser[i], r.project)), fields...)
		}
		if pipe.Len() > 0 {
			if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
				return nil, redisError(err)
			}
		}
		for i := start; i < end; i++ {
			row := Row{Cells: make([]Cell, len(features))}
			if cmd := cmds[i-start]; cmd != nil {
				var err error
				if row, err = redisRow(view, features, cmd.Val()); err != nil {
					return nil, err
				}
			}
			rows[i] = row
		}
	}
	return rows, nil
}

// redisRow decodes one HMGET answer: the features' values, then the view's timestamp.
func redisRow(view string, features []string, vals []any) (Row, error) {
	row := Row{Cells: make([]Cell, len(features))}
	if len(vals) != len(features)+1 {
		return row, fmt.Errorf("redis online store: HMGET answered %d values for %d fields", len(vals), len(features)+1)
	}
	var ts time.Time
	if s, ok := vals[len(features)].(string); ok {
		row.Found = true
		t, err := DecodeTimestamp([]byte(s))
		if err != nil {
			return row, fmt.Errorf("redis online store, field %s: %w", TimestampField(view), err)
		}
		ts = t
	}
	for j, f := range features {
		s, ok := vals[j].(string)
		if !ok {
			continue
		}
		row.Found = true
		v, err := DecodeValue([]byte(s))
		if err != nil {
			return row, fmt.Errorf("redis online store, feature %s:%s: %w", view, f, err)
		}
		row.Cells[j] = Cell{Stored: true, Value: v, EventTime: ts}
	}
	return row, nil
}

// globEscape escapes Redis MATCH pattern characters.
func globEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '*', '?', '[', ']', '\\', '^', '-':
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// scan calls fn with batches of the project's keys that start with prefix, at most max keys in
// all; it reports whether it stopped before the end.
func (r *Redis) scan(ctx context.Context, prefix []byte, max int, fn func([]string) error) (bool, error) {
	match := globEscape(string(prefix)) + "*" + globEscape(r.project)
	var cursor uint64
	seen := 0
	// Each SCAN call examines about 1000 keys of the whole keyspace: bound the calls too, for
	// databases holding many keys of other projects or entity sets.
	for calls := 0; ; calls++ {
		if calls >= 4*max/1000+10 {
			return true, nil
		}
		if err := ctx.Err(); err != nil {
			return false, err
		}
		keys, next, err := r.client.Scan(ctx, cursor, match, 1000).Result()
		if err != nil {
			return false, redisError(err)
		}
		cut := seen+len(keys) > max
		if cut {
			keys = keys[:max-seen]
		}
		seen += len(keys)
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return false, err
			}
		}
		if cut {
			return true, nil // keys were left out, even when SCAN's cursor came back to 0
		}
		if next == 0 {
			return false, nil
		}
		if seen >= max {
			return true, nil
		}
		cursor = next
	}
}

// NewestEventTime implements Store: Redis keeps no index of event times, so the keys of the
// view's entity set are scanned (SCAN MATCH by their serialized join-key prefix and the project
// suffix) and their `_ts:{view}` fields read, up to limits.FeastScanKeys keys.
func (r *Redis) NewestEventTime(ctx context.Context, view string, joinKeys []string) (Newest, error) {
	var n Newest
	field := TimestampField(view)
	max := r.scanKeys
	if max <= 0 {
		max = limits.FeastScanKeys
	}
	partial, err := r.scan(ctx, KeyPrefix(joinKeys, r.version), max, func(keys []string) error {
		pipe := r.client.Pipeline()
		cmds := make([]*redis.StringCmd, len(keys))
		for i, k := range keys {
			cmds[i] = pipe.HGet(ctx, k, field)
		}
		if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
			return redisError(err)
		}
		for _, c := range cmds {
			s, err := c.Result()
			if err != nil {
				continue // redis.Nil: the entity has no row of this view
			}
			n.Scanned++
			t, err := DecodeTimestamp([]byte(s))
			if err != nil {
				return fmt.Errorf("redis online store, field %s: %w", field, err)
			}
			if t.After(n.Time) {
				n.Time = t
			}
		}
		return nil
	})
	n.Partial = partial
	if partial {
		n.ScanLimit = max
	}
	return n, err
}

// StoredKeyVersion implements Store: it samples keys of the project that start with either
// version's encoding of the join keys.
func (r *Redis) StoredKeyVersion(ctx context.Context, view string, joinKeys []string) (int, error) {
	var stored [][]byte
	for _, v := range []int{KeyV3, KeyV2} {
		_, err := r.scan(ctx, KeyPrefix(joinKeys, v), limits.FeastKeySample, func(keys []string) error {
			for _, k := range keys {
				stored = append(stored, []byte(strings.TrimSuffix(k, r.project)))
			}
			return nil
		})
		if err != nil {
			return 0, err
		}
	}
	return DetectKeyVersion(stored, joinKeys), nil
}
