package sql

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestLoadFleet writes ten minutes of the demo fleet and its references and reads them back:
// counts per model, one record's values, and the pooled reference rows without a version.
func TestLoadFleet(t *testing.T) {
	pg := testdb.StartPostgres(t)
	conn := pg.Conn(t)
	ctx := context.Background()
	fleet := demo.NewFleet(demo.DefaultSeed)
	end := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	start := end.Add(-10 * time.Minute)
	nrec, nref, err := LoadFleet(ctx, conn, fleet, "predictions", "reference", start, end)
	require.NoError(t, err)
	require.Positive(t, nrec)
	require.Positive(t, nref)

	b, err := fleet.Records(ctx, source.RecordsRequest{Model: "fraud-detector", Start: start, End: end})
	require.NoError(t, err)
	var n int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM predictions WHERE model = 'fraud-detector'`).Scan(&n))
	require.Equal(t, b.Len(), n)

	// The last record: ts rounded up to the microsecond, values as written.
	i := b.Len() - 1
	var ts time.Time
	var version, status string
	var latency float64
	var amount *float64
	var channel *string
	require.NoError(t, conn.QueryRow(ctx, `SELECT ts, version, status, latency_ms, (features->>'amount')::float8, features->>'channel'
		FROM predictions WHERE model = 'fraud-detector' ORDER BY ts DESC LIMIT 1`).Scan(&ts, &version, &status, &latency, &amount, &channel))
	require.Equal(t, usec(b.TS[i]), ts.UTC())
	require.Equal(t, b.Versions[b.Version[i]], version)
	require.Equal(t, b.LatencyMs[i], latency)
	if a := b.Features["amount"].Num[i]; math.IsNaN(a) {
		require.Nil(t, amount)
	} else {
		require.Equal(t, a, *amount)
	}
	ch := b.Features["channel"]
	if ch.Cat[i] < 0 {
		require.Nil(t, channel)
	} else {
		require.Equal(t, ch.Dict[ch.Cat[i]], *channel)
	}

	var pooled, perVersion int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FILTER (WHERE version IS NULL), count(*) FILTER (WHERE version IS NOT NULL)
		FROM reference WHERE model = 'fraud-detector'`).Scan(&pooled, &perVersion))
	require.Equal(t, demo.ReferenceSize, pooled)
	require.Equal(t, 2*demo.ReferenceSize, perVersion)
}

func TestUsecRoundsUp(t *testing.T) {
	require.Equal(t, int64(999_001), usec(999_000_001).UnixMicro())
	require.Equal(t, int64(999_000), usec(999_000_000).UnixMicro())
	require.Equal(t, int64(-1), usec(-1001).UnixMicro())
}
