package online

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

// fixture: feature view "driver_stats" (join key driver_id INT64) with conv_rate DOUBLE,
// trips INT64, tier STRING; drivers 1001..1004 written, 1004 with a null tier and no trips.
var (
	t0      = time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	fixture = []WriteRow{
		{Key: driver(1001), Values: map[string]Value{"conv_rate": Double(0.5), "trips": Int64(12), "tier": String("gold")}, EventTime: t0},
		{Key: driver(1002), Values: map[string]Value{"conv_rate": Double(0.25), "trips": Int64(3), "tier": String("silver")}, EventTime: t0.Add(-2 * time.Hour)},
		{Key: driver(1003), Values: map[string]Value{"conv_rate": Double(0.75), "trips": Int64(-1), "tier": String("gold")}, EventTime: t0.Add(90 * time.Minute)},
		{Key: driver(1004), Values: map[string]Value{"conv_rate": Double(0.1), "tier": Null()}, EventTime: t0.Add(-24 * time.Hour)},
	}
	features = []string{"conv_rate", "trips", "tier", "not_a_feature"}
)

func driver(id int64) EntityKey {
	return EntityKey{JoinKeys: []string{"driver_id"}, Values: []Value{Int64(id)}}
}

// checkReads runs the same assertions on any store holding the fixture in project "demo".
func checkReads(t *testing.T, s Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.Read(ctx, "driver_stats", features, []EntityKey{driver(1001), driver(9999), driver(1004), driver(1003), driver(1001),
		{JoinKeys: []string{"customer_id"}, Values: []Value{Int64(1001)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 6 {
		t.Fatalf("%d rows", len(rows))
	}
	r := rows[0]
	if !r.Found || !r.Cells[0].Value.Equal(Double(0.5)) || !r.Cells[1].Value.Equal(Int64(12)) ||
		!r.Cells[2].Value.Equal(String("gold")) || r.Cells[3].Stored || !r.Cells[0].EventTime.Equal(t0) {
		t.Fatalf("driver 1001: %+v", r)
	}
	if !rows[4].Found || !rows[4].Cells[0].Value.Equal(Double(0.5)) {
		t.Fatalf("repeated key: %+v", rows[4])
	}
	if rows[1].Found || rows[1].Cells[0].Stored {
		t.Fatalf("driver 9999 found: %+v", rows[1])
	}
	if rows[5].Found {
		t.Fatalf("another entity set found: %+v", rows[5])
	}
	r = rows[2]
	if !r.Found || r.Cells[1].Stored || !r.Cells[2].Stored || !r.Cells[2].Value.IsNull() || !r.Cells[2].EventTime.Equal(t0.Add(-24*time.Hour)) {
		t.Fatalf("driver 1004: %+v", r)
	}
	if !rows[3].Cells[1].Value.Equal(Int64(-1)) {
		t.Fatalf("driver 1003: %+v", rows[3])
	}
	n, err := s.NewestEventTime(ctx, "driver_stats", []string{"driver_id"})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Time.Equal(t0.Add(90*time.Minute)) || n.Partial || n.Scanned == 0 {
		t.Fatalf("newest %+v", n)
	}
	if err := CheckStoredVersion(ctx, s, "driver_stats", []string{"driver_id"}); err != nil {
		t.Fatalf("own version flagged: %v", err)
	}
	// An empty probe set reads nothing.
	if rows, err := s.Read(ctx, "driver_stats", features, nil); err != nil || len(rows) != 0 {
		t.Fatalf("%v %v", rows, err)
	}
}

func TestRedisStore(t *testing.T) {
	srv := testdb.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	if err := WriteRedis(ctx, c, "demo", KeyV3, "driver_stats", fixture, 0); err != nil {
		t.Fatal(err)
	}
	// The same entities in another project and another view must not count.
	if err := WriteRedis(ctx, c, "other", KeyV3, "driver_stats", []WriteRow{{Key: driver(1001), Values: map[string]Value{"conv_rate": Double(9)},
		EventTime: t0.Add(48 * time.Hour)}}, 0); err != nil {
		t.Fatal(err)
	}
	if err := WriteRedis(ctx, c, "demo", KeyV3, "driver_daily", []WriteRow{{Key: driver(1005), Values: map[string]Value{"x": Double(1)},
		EventTime: t0.Add(48 * time.Hour)}}, 0); err != nil {
		t.Fatal(err)
	}
	s, err := NewRedis(RedisOptions{Address: srv.Addr, Project: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkReads(t, s)

	// The stored layout is Feast's: the hash of driver 1001 has the murmur3 fields and _ts.
	sk, _ := SerializeEntityKey(driver(1001), KeyV3)
	h, err := c.HGetAll(ctx, string(RedisKey(sk, "demo"))).Result()
	if err != nil || len(h) != 4 || h["_ts:driver_stats"] == "" || h[string(FieldHash("driver_stats", "tier"))] != "\x12\x04gold" {
		t.Fatalf("hash %q %v", h, err)
	}

	// Read with version 2: nothing is found, and the stored keys are named as version 3.
	s2, _ := NewRedis(RedisOptions{Address: srv.Addr, Project: "demo", KeyVersion: 2})
	defer s2.Close()
	rows, err := s2.Read(ctx, "driver_stats", features, []EntityKey{driver(1001)})
	if err != nil || rows[0].Found {
		t.Fatalf("v2 read: %+v %v", rows, err)
	}
	err = CheckStoredVersion(ctx, s2, "driver_stats", []string{"driver_id"})
	var kv *KeyVersionError
	if !errors.As(err, &kv) || kv.Stored != 3 || kv.Configured != 2 || !strings.Contains(err.Error(), "set it to 3") {
		t.Fatalf("version error: %v", err)
	}

	// A corrupt value is an error naming the feature, not a panic.
	if err := c.HSet(ctx, string(RedisKey(sk, "demo")), string(FieldHash("driver_stats", "trips")), "\x20").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, "driver_stats", features, []EntityKey{driver(1001)}); err == nil || !strings.Contains(err.Error(), "driver_stats:trips") {
		t.Fatalf("corrupt value: %v", err)
	}
}

func TestRedisStoreV2AndPassword(t *testing.T) {
	srv := testdb.StartRedis(t, "--requirepass", "redis-secret-pw")
	ctx := context.Background()
	s, err := NewRedis(RedisOptions{Address: srv.Addr + ",db=0", Project: "demo", KeyVersion: KeyV2, Password: "redis-secret-pw"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := WriteRedis(ctx, s.client, "demo", KeyV2, "driver_stats", fixture, time.Hour); err != nil {
		t.Fatal(err)
	}
	checkReads(t, s)
	s3, _ := NewRedis(RedisOptions{Address: srv.Addr, Project: "demo", Password: "redis-secret-pw"})
	defer s3.Close()
	var kv *KeyVersionError
	if err := CheckStoredVersion(ctx, s3, "driver_stats", []string{"driver_id"}); !errors.As(err, &kv) || kv.Stored != 2 {
		t.Fatalf("version error: %v", err)
	}
	bad, _ := NewRedis(RedisOptions{Address: srv.Addr, Project: "demo", Password: "wrong-password", Timeout: 2 * time.Second})
	defer bad.Close()
	err = bad.Ping(ctx)
	if err == nil || strings.Contains(err.Error(), "wrong-password") {
		t.Fatalf("bad password: %v", err)
	}
}

func TestRedisUnreachable(t *testing.T) {
	s, err := NewRedis(RedisOptions{Address: "127.0.0.1:" + strconv.Itoa(testdb.FreePort(t)), Project: "demo", Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Read(context.Background(), "v", []string{"f"}, []EntityKey{driver(1)}); err == nil {
		t.Fatal("no error from an unreachable Redis")
	}
	for _, a := range []string{"", "redis://host:1", "host:1,password=x", "host:1,db=x", "host:1,foo=1", "nohost"} {
		if _, err := NewRedis(RedisOptions{Address: a, Project: "demo"}); err == nil {
			t.Errorf("address %q accepted", a)
		}
	}
}

func TestPostgresStore(t *testing.T) {
	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	if err := CreatePostgresTable(ctx, conn, "demo", "driver_stats"); err != nil {
		t.Fatal(err)
	}
	if err := WritePostgres(ctx, conn, "demo", KeyV3, "driver_stats", fixture); err != nil {
		t.Fatal(err)
	}
	s, err := NewPostgres(PostgresOptions{URL: pg.URLWithoutPassword(), Password: pg.Password, Project: "demo"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	checkReads(t, s)

	// A view never materialized: ErrNoTable naming the table.
	_, err = s.Read(ctx, "missing_view", features, []EntityKey{driver(1001)})
	if !errors.Is(err, ErrNoTable) || !strings.Contains(err.Error(), "demo_missing_view") {
		t.Fatalf("missing table: %v", err)
	}
	if _, err := s.NewestEventTime(ctx, "missing_view", nil); !errors.Is(err, ErrNoTable) {
		t.Fatalf("missing table: %v", err)
	}
	// Configured version 2 against version-3 keys: named.
	s2, _ := NewPostgres(PostgresOptions{URL: pg.URLWithoutPassword(), Password: pg.Password, Project: "demo", KeyVersion: 2})
	defer s2.Close()
	var kv *KeyVersionError
	if err := CheckStoredVersion(ctx, s2, "driver_stats", []string{"driver_id"}); !errors.As(err, &kv) || kv.Stored != 3 {
		t.Fatalf("version error: %v", err)
	}
	// A wrong password never shows in the error.
	bad, _ := NewPostgres(PostgresOptions{URL: pg.URLWithoutPassword(), Password: "not-the-password-xyz", Project: "demo", Timeout: 5 * time.Second})
	defer bad.Close()
	if err := bad.Ping(ctx); err == nil || strings.Contains(err.Error(), "not-the-password-xyz") {
		t.Fatalf("bad password: %v", err)
	}
	if _, err := NewPostgres(PostgresOptions{URL: pg.URL, Project: "demo"}); err == nil {
		t.Fatal("a URL with a password accepted")
	}
	// A corrupt value: an error naming the feature.
	sk, _ := SerializeEntityKey(driver(1002), KeyV3)
	if _, err := conn.Exec(ctx, `UPDATE demo_driver_stats SET value = '\x20' WHERE entity_key = $1 AND feature_name = 'tier'`, sk); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(ctx, "driver_stats", features, []EntityKey{driver(1002)}); err == nil || !strings.Contains(err.Error(), `"tier"`) {
		t.Fatalf("corrupt value: %v", err)
	}
}

func TestFreshnessAdapter(t *testing.T) {
	srv := testdb.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	if err := WriteRedis(ctx, c, "demo", KeyV3, "driver_stats", fixture, 0); err != nil {
		t.Fatal(err)
	}
	f := Freshness{Store: NewRedisFromClient(c, "demo", KeyV3), Registry: stubRegistry{&feast.Registry{
		Entities: []feast.Entity{{Name: "driver", Project: "demo", JoinKey: "driver_id"}}}}}
	// Join keys from the registry's entity (no entity columns).
	ev, err := f.NewestEventTime(ctx, &feast.FeatureView{Name: "driver_stats", Project: "demo", Entities: []string{"driver"}})
	if err != nil || !ev.Time.Equal(t0.Add(90*time.Minute)) || ev.ScanCapped != 0 {
		t.Fatalf("%+v %v", ev, err)
	}
	// A view with no rows.
	ev, err = f.NewestEventTime(ctx, &feast.FeatureView{Name: "empty", Project: "demo", EntityColumns: []feast.Field{{Name: "driver_id"}}})
	if err != nil || !ev.Time.IsZero() || ev.ScanCapped != 0 {
		t.Fatalf("empty view: %+v %v", ev, err)
	}
}

type stubRegistry struct{ r *feast.Registry }

func (s stubRegistry) Registry(context.Context) (*feast.Registry, error) { return s.r, nil }

// TestRedisNewestEventScanCap: a scan cut at its cap (limits.FeastScanKeys, here 10 keys of 50)
// says so, and its newest time is one of the scanned entities', never after the true newest.
func TestRedisNewestEventScanCap(t *testing.T) {
	srv := testdb.StartRedis(t)
	c := srv.Client(t)
	ctx := context.Background()
	rows := make([]WriteRow, 50)
	times := map[time.Time]bool{}
	for i := range rows {
		ts := t0.Add(time.Duration(i) * time.Minute)
		rows[i] = WriteRow{Key: driver(int64(2000 + i)), Values: map[string]Value{"trips": Int64(int64(i))}, EventTime: ts}
		times[ts] = true
	}
	newest := t0.Add(49 * time.Minute)
	if err := WriteRedis(ctx, c, "demo", KeyV3, "driver_stats", rows, 0); err != nil {
		t.Fatal(err)
	}
	r := NewRedisFromClient(c, "demo", KeyV3)
	r.scanKeys = 10
	n, err := r.NewestEventTime(ctx, "driver_stats", []string{"driver_id"})
	if err != nil {
		t.Fatal(err)
	}
	if !n.Partial || n.ScanLimit != 10 || n.Scanned == 0 || n.Scanned > 10 || !times[n.Time] || n.Time.After(newest) {
		t.Fatalf("capped scan: %+v", n)
	}
	f := Freshness{Store: r}
	ev, err := f.NewestEventTime(ctx, &feast.FeatureView{Name: "driver_stats", Project: "demo", EntityColumns: []feast.Field{{Name: "driver_id"}}})
	if err != nil || ev.ScanCapped != 10 || !ev.Time.Equal(n.Time) {
		t.Fatalf("adapter: %+v %v", ev, err)
	}

	// Under the cap: every key is read and the newest is exact.
	r.scanKeys = 0
	n, err = r.NewestEventTime(ctx, "driver_stats", []string{"driver_id"})
	if err != nil || n.Partial || n.ScanLimit != 0 || n.Scanned != 50 || !n.Time.Equal(newest) {
		t.Fatalf("full scan: %+v %v", n, err)
	}
}
