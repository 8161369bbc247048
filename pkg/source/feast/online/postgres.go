package online

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/pgconn"
)

// PostgresOptions configure a PostgreSQL online store.
type PostgresOptions struct {
	// URL is postgres://user@host:port/db (no password).
	URL      string
	Password string
	Project  string
	// KeyVersion is the entity-key serialization version (2 or 3; 0 means 3).
	KeyVersion int
	Timeout    time.Duration
}

// Postgres reads Feast's PostgreSQL online store: per view a table "{project}_{view}" with
// entity_key BYTEA (the serialized key, without the project), feature_name TEXT, value BYTEA
// (a serialized Value), event_ts TIMESTAMPTZ (sdk/python/feast/infra/online_stores/postgres_online_store/postgres.py).
type Postgres struct {
	pool     *pgxpool.Pool
	project  string
	version  int
	password string
}

// NewPostgres returns a reader of the PostgreSQL online store (it connects lazily).
func NewPostgres(o PostgresOptions) (*Postgres, error) {
	if o.KeyVersion == 0 {
		o.KeyVersion = DefaultKeyVersion
	}
	if err := CheckKeyVersion(o.KeyVersion); err != nil {
		return nil, err
	}
	if o.Project == "" {
		return nil, errors.New("feast.project is required to read the online store")
	}
	pool, err := pgconn.Open(pgconn.Options{URL: o.URL, Password: o.Password, Timeout: o.Timeout, MaxConns: 4,
		What: "feast.onlineStore"})
	if err != nil {
		return nil, err
	}
	return &Postgres{pool: pool, project: o.Project, version: o.KeyVersion, password: o.Password}, nil
}

// KeyVersion implements Store.
func (p *Postgres) KeyVersion() int { return p.version }

// Ping implements Store.
func (p *Postgres) Ping(ctx context.Context) error { return p.wrap(p.pool.Ping(ctx), "") }

// Close implements Store.
func (p *Postgres) Close() error { p.pool.Close(); return nil }

func (p *Postgres) table(view string) string {
	return pgx.Identifier{PostgresTable(p.project, view)}.Sanitize()
}

func (p *Postgres) wrap(err error, view string) error {
	if err == nil {
		return nil
	}
	if view != "" && pgconn.UndefinedTable(err) {
		return fmt.Errorf("%w: %s (feature view %q was never materialized into this online store, or feast.project is wrong)",
			ErrNoTable, PostgresTable(p.project, view), view)
	}
	return pgconn.Wrap(err, "postgres online store", p.password)
}

// Read implements Store: per batch of limits.FeastReadBatch entities one statement
// SELECT entity_key, feature_name, value, event_ts FROM "{project}_{view}" WHERE entity_key =
// ANY($1) AND feature_name = ANY($2), as Feast's own reader does.
func (p *Postgres) Read(ctx context.Context, view string, features []string, keys []EntityKey) ([]Row, error) {
	featIdx := make(map[string]int, len(features))
	for i, f := range features {
		featIdx[f] = i
	}
	ser := serializeAll(keys, p.version)
	rows := make([]Row, len(keys))
	for i := range rows {
		rows[i].Cells = make([]Cell, len(features))
	}
	q := "SELECT entity_key, feature_name, value, event_ts FROM " + p.table(view) +
		" WHERE entity_key = ANY($1) AND feature_name = ANY($2)"
	for start := 0; start < len(keys); start += limits.FeastReadBatch {
		end := min(start+limits.FeastReadBatch, len(keys))
		byKey := map[string][]int{}
		var batch [][]byte
		for i := start; i < end; i++ {
			if ser[i] == nil {
				continue
			}
			k := string(ser[i])
			if _, ok := byKey[k]; !ok {
				batch = append(batch, ser[i])
			}
			byKey[k] = append(byKey[k], i)
		}
		if len(batch) == 0 {
			continue
		}
		res, err := p.pool.Query(ctx, q, batch, features)
		if err != nil {
			return nil, p.wrap(err, view)
		}
		var ek, val []byte
		var name string
		var ts *time.Time
		_, err = pgx.ForEachRow(res, []any{&ek, &name, &val, &ts}, func() error {
			j, ok := featIdx[name]
			if !ok {
				return nil
			}
			var v Value
			if val != nil {
				var err error
				if v, err = DecodeValue(val); err != nil {
					return fmt.Errorf("postgres online store, %s feature %q: %w", PostgresTable(p.project, view), name, err)
				}
			}
			c := Cell{Stored: true, Value: v}
			if ts != nil {
				c.EventTime = ts.UTC()
			}
			for _, i := range byKey[string(ek)] {
				rows[i].Found = true
				rows[i].Cells[j] = c
			}
			return nil
		})
		if err != nil {
			return nil, p.wrap(err, view)
		}
	}
	return rows, nil
}

// NewestEventTime implements Store: SELECT max(event_ts), count(*) of the view's table.
func (p *Postgres) NewestEventTime(ctx context.Context, view string, _ []string) (Newest, error) {
	var n Newest
	var ts *time.Time
	err := p.pool.QueryRow(ctx, "SELECT max(event_ts), count(*) FROM "+p.table(view)).Scan(&ts, &n.Scanned)
	if err != nil {
		return n, p.wrap(err, view)
	}
	if ts != nil {
		n.Time = ts.UTC()
	}
	return n, nil
}

// StoredKeyVersion implements Store: it samples limits.FeastKeySample keys of the view's table.
func (p *Postgres) StoredKeyVersion(ctx context.Context, view string, joinKeys []string) (int, error) {
	res, err := p.pool.Query(ctx, "SELECT entity_key FROM "+p.table(view)+" LIMIT $1", limits.FeastKeySample)
	if err != nil {
		return 0, p.wrap(err, view)
	}
	stored, err := pgx.CollectRows(res, pgx.RowTo[[]byte])
	if err != nil {
		return 0, p.wrap(err, view)
	}
	return DetectKeyVersion(stored, joinKeys), nil
}
