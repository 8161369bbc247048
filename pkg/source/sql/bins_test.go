package sql_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
)

// pgWire counts what PostgreSQL sends over the source's connections: bytes, DataRow messages
// (rows received) and CommandComplete messages (statements executed).
type pgWire struct {
	bytes, rows, statements atomic.Int64
}

// dial returns a dial function whose connections count into w.
func (w *pgWire) dial() func(ctx context.Context, network, addr string) (net.Conn, error) {
	d := &net.Dialer{}
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &wireConn{Conn: c, w: w}, nil
	}
}

func (w *pgWire) reset() {
	w.bytes.Store(0)
	w.rows.Store(0)
	w.statements.Store(0)
}

// wireConn follows the backend messages of one connection (sslmode=disable: every message the
// server sends is a type byte and an int32 length that counts itself, the body follows).
type wireConn struct {
	net.Conn
	w    *pgWire
	hdr  [5]byte
	nh   int // header bytes held
	left int // body bytes still to skip
}

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.w.bytes.Add(int64(n))
	b := p[:n]
	for len(b) > 0 {
		if c.left > 0 {
			k := min(c.left, len(b))
			c.left -= k
			b = b[k:]
			continue
		}
		k := copy(c.hdr[c.nh:], b)
		c.nh += k
		b = b[k:]
		if c.nh < len(c.hdr) {
			break
		}
		c.nh = 0
		switch c.hdr[0] {
		case 'D':
			c.w.rows.Add(1)
		case 'C':
			c.w.statements.Add(1)
		}
		c.left = int(binary.BigEndian.Uint32(c.hdr[1:])) - 4
	}
	return n, err
}

// binsDay is the first hour of the fixture of TestBinnedPushdownLayouts.
var binsDay = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

// TestBinnedPushdownLayouts checks the one-statement bin counting of the binned drift measures on
// both table layouts — a jsonb features column and a wide table with one column per feature — with
// values the raw path leaves out (JSON null, strings and booleans in a numeric feature, a missing
// key, NaN and ±Infinity in a float8 column) and categories written as strings, numbers and
// booleans: push-down gives the raw path's numbers (1e-12 relative) for every version choice and
// for overlapping windows, and its number of statements does not grow with the number of features
// (one for the numeric ones, one for the categorical ones).
func TestBinnedPushdownLayouts(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	require.NoError(t, sqlsource.CreateTables(ctx, conn, "predictions", "reference"))
	// 6,000 records of model m over 2 h (versions v1, v2), x shifting in the second hour; the
	// reference: 2,000 records per version and 2,000 pooled (NULL version). y is numeric (the
	// reference holds numbers and nulls only), with strings and booleans in the records.
	features := `jsonb_build_object(
		'x', round(((g % 97)::numeric / 7 + random()::numeric + CASE WHEN g > n / 2 THEN 0.5 ELSE 0 END), 6),
		'y', CASE WHEN g % 11 = 0 THEN 'null'::jsonb WHEN n > 0 AND g % 13 = 0 THEN '"text"'::jsonb WHEN n > 0 AND g % 17 = 0 THEN 'true'::jsonb
			ELSE to_jsonb(round(random()::numeric * 10, 4)) END,
		'cat', CASE WHEN g % 19 = 0 THEN to_jsonb(3) WHEN g % 23 = 0 THEN 'false'::jsonb
			ELSE to_jsonb((ARRAY['a', 'b', 'c', 'd'])[1 + (g * g + g / 1000) % 4]) END
	) - CASE WHEN g % 29 = 0 THEN 'y' ELSE '' END`
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{"SELECT setseed(0.25)", nil},
		{`INSERT INTO predictions (ts, model, version, latency_ms, status, features)
		 SELECT $1::timestamptz + g * interval '1.2 seconds', 'm', CASE WHEN g % 2 = 0 THEN 'v1' ELSE 'v2' END, 10, 'ok', ` + features + `
		 FROM (SELECT g, 6000 AS n FROM generate_series(1, 6000) g) s`, []any{binsDay}},
		{`INSERT INTO reference (model, version, features)
		 SELECT 'm', (ARRAY['v1', 'v2', NULL])[1 + g % 3], ` + features + `
		 FROM (SELECT g, 0 AS n FROM generate_series(1, 6000) g) s`, nil},
	} {
		_, err := conn.Exec(ctx, stmt.sql, stmt.args...)
		require.NoError(t, err, stmt.sql)
	}
	// The wide copies: y as float8 with NaN (for "text"), +Infinity (true) and −Infinity (JSON
	// null); cat as text.
	wide := `SELECT %s model, version, latency_ms, status,
		CASE WHEN jsonb_typeof(features -> 'x') = 'number' THEN (features -> 'x')::float8 END AS x,
		CASE jsonb_typeof(features -> 'y') WHEN 'number' THEN (features -> 'y')::float8 WHEN 'string' THEN 'NaN'::float8
			WHEN 'boolean' THEN 'Infinity'::float8 WHEN 'null' THEN '-Infinity'::float8 END AS y,
		features ->> 'cat' AS cat`
	for _, stmt := range []string{
		"CREATE TABLE wide AS " + fmt.Sprintf(wide, "ts,") + " FROM predictions",
		"CREATE TABLE wide_ref AS " + fmt.Sprintf(wide, "") + " FROM reference",
		"CREATE INDEX ON wide (model, ts)",
		"ANALYZE",
	} {
		_, err := conn.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}

	for _, layout := range []struct{ name, tables string }{
		{"jsonb", ``},
		{"wide", `, "records": {"table": "wide", "columns": {"prediction": "", "score": "", "label": "", "labelTs": ""}, "featureColumns": ["x", "y", "cat"]},
			"reference": {"table": "wide_ref", "columns": {"ts": "", "prediction": "", "score": "", "label": "", "labelTs": ""}, "featureColumns": ["x", "y", "cat"]}`},
	} {
		t.Run(layout.name, func(t *testing.T) {
			s, err := settings.Parse([]byte(`{"sql": {"url": "`+pg.URLWithoutPassword()+`"`+layout.tables+`}}`), nil)
			require.NoError(t, err)
			wire := &pgWire{}
			src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: pg.Password, Timeout: 30 * time.Second, Dial: wire.dial()})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			// The plugin's reference cache: a warm query reads no reference rows.
			deps := query.Deps{MaxSamples: settings.DefaultMaxSamples, Timeout: time.Minute, SQL: src, References: refstats.New(time.Hour)}
			push := query.New(deps)
			deps.NoPushdown = true
			raw := query.New(deps)
			from, to := binsDay, binsDay.Add(2*time.Hour)
			binned := []string{"psi", "js", "hellinger", "tvd", "kld", "chi2", "linf", "status"}
			for _, v := range []string{"", "*", "v2"} {
				for _, w := range []struct {
					window   string
					interval time.Duration
				}{{"20m", 20 * time.Minute}, {"30m", 10 * time.Minute}} {
					q := map[string]any{"queryType": "drift", "model": "m", "version": v, "methods": binned, "window": w.window}
					what := "version " + v + " window " + w.window
					want := answer(raw, query.SourceSQL, q, from, to, w.interval)
					got := answer(push, query.SourceSQL, q, from, to, w.interval)
					require.Positive(t, sameResponses(t, what, want, got), what)
				}
			}
			// Push-down: no rows of records, as many statements for one numeric feature as for two,
			// and one more for the categorical ones.
			statements := map[int]int64{}
			for _, fs := range [][]string{{"x"}, {"x", "y"}, {"x", "y", "cat"}} {
				q := map[string]any{"queryType": "drift", "model": "m", "features": fs, "methods": binned, "window": "20m"}
				require.NoError(t, answer(push, query.SourceSQL, q, from, to, 20*time.Minute).Error) // warm the caches
				wire.reset()
				r := answer(push, query.SourceSQL, q, from, to, 20*time.Minute)
				require.NoError(t, r.Error)
				statements[len(fs)] = wire.statements.Load()
				require.Less(t, wire.rows.Load(), int64(1000), "rows received for %v (3,000 records in the range)", fs)
			}
			require.Equal(t, statements[1], statements[2], "statements for one and for two numeric features")
			require.Equal(t, statements[1]+1, statements[3], "statements with a categorical feature")
		})
	}
}
