package online

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	pgconn5 "github.com/jackc/pgx/v5/pgconn"
	"github.com/redis/go-redis/v9"
)

// The writers below lay out rows exactly as Feast's materialization writes them, for the demo
// fleet and for tests that read them back through the Store readers.

// WriteRow is one entity's values of a view, as materialization writes them.
type WriteRow struct {
	Key EntityKey
	// Values maps feature name to value (a Null() value writes null_val).
	Values    map[string]Value
	EventTime time.Time
}

// WriteRedis writes rows into Redis as Feast's RedisOnlineStore.online_write_batch does: per
// entity one HSET of key (serialized key + project) with field murmur3("{view}:{feature}") =
// serialized Value and field "_ts:{view}" = serialized Timestamp. keyTTL > 0 sets EXPIRE.
func WriteRedis(ctx context.Context, c *redis.Client, project string, keyVersion int, view string, rows []WriteRow, keyTTL time.Duration) error {
	pipe := c.Pipeline()
	for _, r := range rows {
		sk, err := SerializeEntityKey(r.Key, keyVersion)
		if err != nil {
			return err
		}
		key := string(RedisKey(sk, project))
		fields := []any{TimestampField(view), string(AppendTimestamp(nil, r.EventTime))}
		for _, f := range sortedNames(r.Values) {
			b, err := AppendValue(nil, r.Values[f])
			if err != nil {
				return err
			}
			fields = append(fields, string(FieldHash(view, f)), string(b))
		}
		pipe.HSet(ctx, key, fields...)
		if keyTTL > 0 {
			pipe.Expire(ctx, key, keyTTL)
		}
		if pipe.Len() >= 1000 {
			if _, err := pipe.Exec(ctx); err != nil {
				return err
			}
		}
	}
	if pipe.Len() > 0 {
		_, err := pipe.Exec(ctx)
		return err
	}
	return nil
}

func sortedNames(m map[string]Value) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Execer is a pgx connection or pool.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn5.CommandTag, error)
}

// CreatePostgresTable creates a view's online table as Feast's PostgreSQLOnlineStore.update does.
func CreatePostgresTable(ctx context.Context, db Execer, project, view string) error {
	t := PostgresTable(project, view)
	q := fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
		entity_key BYTEA,
		feature_name TEXT,
		value BYTEA,
		value_text TEXT NULL,
		vector_value BYTEA NULL,
		event_ts TIMESTAMPTZ,
		created_ts TIMESTAMPTZ,
		PRIMARY KEY(entity_key, feature_name));
		CREATE INDEX IF NOT EXISTS %s ON %s (entity_key);`,
		pgx.Identifier{t}.Sanitize(), pgx.Identifier{t + "_ek"}.Sanitize(), pgx.Identifier{t}.Sanitize())
	_, err := db.Exec(ctx, q)
	return err
}

// WritePostgres upserts rows into a view's online table as Feast's online_write_batch does (one
// row per entity and feature; entity_key without the project).
func WritePostgres(ctx context.Context, db Execer, project string, keyVersion int, view string, rows []WriteRow) error {
	q := "INSERT INTO " + pgx.Identifier{PostgresTable(project, view)}.Sanitize() +
		` (entity_key, feature_name, value, event_ts, created_ts) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (entity_key, feature_name) DO UPDATE SET value = EXCLUDED.value, event_ts = EXCLUDED.event_ts,
		created_ts = EXCLUDED.created_ts`
	for _, r := range rows {
		sk, err := SerializeEntityKey(r.Key, keyVersion)
		if err != nil {
			return err
		}
		for _, f := range sortedNames(r.Values) {
			b, err := AppendValue(nil, r.Values[f])
			if err != nil {
				return err
			}
			if b == nil {
				b = []byte{} // an empty Value message, not SQL NULL
			}
			if _, err := db.Exec(ctx, q, sk, f, b, r.EventTime.UTC(), r.EventTime.UTC()); err != nil {
				return err
			}
		}
	}
	return nil
}
