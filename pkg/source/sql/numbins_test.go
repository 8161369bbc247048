package sql_test

import (
	"context"
	"fmt"
	"math"
	"math/big"
	"math/rand/v2"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// exactDecimal prints the rational r exactly (r has at most digits fractional decimal digits).
func exactDecimal(r *big.Rat, digits int) string { return r.FloatString(digits) }

// TestNumericBinsExact bins decimals where float64 rounding decides: the exact midpoints between
// each edge and the float64 below it (a tie rounds to the even significand, so it belongs to the
// edge's bin only for an even edge), decimals a hair on either side of them, values that round to
// ±Inf or to zero, and the ends of the float64 range. Push-down (jsonb numbers, jsonb strings and
// a numeric column) counts each bin exactly as the raw path does: strconv.ParseFloat, then
// stats.Bin, non-finite values left out. Nothing here may fail the statement, as a cast to float8
// would for 1e400, nor may the raw path's read of the records.
func TestNumericBinsExact(t *testing.T) {
	edges := []float64{-math.MaxFloat64, -1e300, -2.5, -0.1, 0, 5e-324, 1e-310, 0.1, 0.5, 1, math.Nextafter(1, 2), 3, 1e300, math.MaxFloat64}
	var values []string
	tiny := new(big.Rat).SetFrac(big.NewInt(1), new(big.Int).Exp(big.NewInt(10), big.NewInt(1100), nil))
	for _, e := range edges {
		ex := new(big.Rat).SetFloat64(e)
		lo := math.Nextafter(e, math.Inf(-1))
		var mid *big.Rat
		if math.IsInf(lo, -1) {
			mid = new(big.Rat).Neg(new(big.Rat).SetFrac(new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 1024), new(big.Int).Lsh(big.NewInt(1), 970)), big.NewInt(1)))
		} else {
			mid = new(big.Rat).Add(ex, new(big.Rat).SetFloat64(lo))
			mid.Quo(mid, big.NewRat(2, 1))
		}
		for _, r := range []*big.Rat{ex, mid, new(big.Rat).Add(mid, tiny), new(big.Rat).Sub(mid, tiny)} {
			values = append(values, exactDecimal(r, 1100))
		}
		values = append(values, strconv.FormatFloat(e, 'g', -1, 64))
		if !math.IsInf(lo, 0) {
			values = append(values, strconv.FormatFloat(lo, 'g', -1, 64))
		}
	}
	overflow := new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 1024), new(big.Int).Lsh(big.NewInt(1), 970)).String()
	values = append(values, overflow, "-"+overflow, overflow[:len(overflow)-1]+"1", "1e400", "-1e400", "1e-400", "-1e-400",
		"2e-324", "3e-324", "-0", "0", "1.5e308", "-1.7976931348623157e308", "0.1000000000000000055511151231257827021181583404541015625")
	rng := rand.New(rand.NewPCG(7, 11))
	for range 500 {
		values = append(values, strconv.FormatFloat((rng.Float64()-0.5)*8, 'g', 17, 64))
	}
	// The raw path's bins: a JSON number through strconv.ParseFloat (out of range: left out); a
	// JSON string as push-down reads it (a decimal of at most 400 characters and a 3-digit exponent).
	decimal := regexp.MustCompile(`^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$`)
	want := make([]float64, len(edges)+1)
	wantStr := make([]float64, len(edges)+1)
	for _, v := range values {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsInf(f, 0) {
			continue
		}
		want[stats.Bin(edges, f)]++
		if len(v) <= 400 && decimal.MatchString(v) {
			wantStr[stats.Bin(edges, f)]++
		}
	}

	pg := testdb.StartPostgres(t)
	ctx := context.Background()
	conn := pg.Conn(t)
	require.NoError(t, sqlsource.CreateTables(ctx, conn, "predictions", "reference"))
	for _, stmt := range []string{
		"CREATE TABLE wide (ts timestamptz NOT NULL, model text, version text, latency_ms float8, status text, x numeric, y numeric)",
		"CREATE INDEX ON wide (model, ts)",
	} {
		_, err := conn.Exec(ctx, stmt)
		require.NoError(t, err, stmt)
	}
	day := time.Date(2026, 3, 4, 0, 0, 0, 0, time.UTC)
	for i, v := range values {
		ts := day.Add(time.Duration(i+1) * time.Second)
		str := "null"
		if len(v) <= 400 {
			str = strconv.Quote(v)
		}
		_, err := conn.Exec(ctx, `INSERT INTO predictions (ts, model, version, latency_ms, status, prediction, features)
			VALUES ($1, 'm', 'v1', 1, 'ok', $2::jsonb, jsonb_build_object('x', $2::jsonb, 'y', $3::jsonb))`, ts, v, str)
		require.NoError(t, err, v)
		_, err = conn.Exec(ctx, `INSERT INTO wide (ts, model, version, latency_ms, status, x) VALUES ($1, 'm', 'v1', 1, 'ok', $2::numeric)`, ts, v)
		require.NoError(t, err, v)
	}
	for i, v := range []string{"NaN", "Infinity", "-Infinity"} { // numeric's non-finite values: left out
		_, err := conn.Exec(ctx, `INSERT INTO wide (ts, model, version, latency_ms, status, x) VALUES ($1, 'm', 'v1', 1, 'ok', $2::numeric)`,
			day.Add(time.Duration(len(values)+i+1)*time.Second), v)
		require.NoError(t, err)
	}
	req := source.AggRequest{Model: "m", Windows: source.Windows{Ends: []time.Time{day.Add(time.Hour)}, Width: time.Hour}}
	for _, layout := range []struct{ name, tables string }{
		{"jsonb", ``},
		{"numeric column", `, "records": {"table": "wide", "columns": {"prediction": "", "score": "", "label": "", "labelTs": ""}, "featureColumns": ["x", "y"]}`},
	} {
		t.Run(layout.name, func(t *testing.T) {
			s, err := settings.Parse([]byte(`{"sql": {"url": "`+pg.URLWithoutPassword()+`"`+layout.tables+`}}`), nil)
			require.NoError(t, err)
			src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: pg.Password, Timeout: 30 * time.Second})
			require.NoError(t, err)
			t.Cleanup(src.Close)
			vars := []source.BinVar{{Name: "x", Edges: edges}}
			if layout.name == "jsonb" {
				vars = append(vars, source.BinVar{Name: "y", Edges: edges})
			}
			gs, err := src.WindowBins(ctx, req, vars)
			require.NoError(t, err)
			require.Len(t, gs, 1)
			require.Equal(t, want, gs[0].Vars[0].Counts[0], "bins of the numbers")
			if layout.name == "jsonb" {
				require.Equal(t, wantStr, gs[0].Vars[1].Counts[0], "bins of the strings")
				// The prediction's percentiles read the same numbers as float8 without failing.
				ps, err := src.WindowPercentiles(ctx, req, "prediction", []float64{50})
				require.NoError(t, err)
				require.Equal(t, sum(want), ps[0].N[0], "finite predictions")
			}
			// The raw path reads each number as strconv.ParseFloat does (beyond float8's range:
			// null, NaN in the batch) and does not fail either.
			b, err := src.Records(ctx, source.RecordsRequest{Model: "m", Start: day, End: day.Add(time.Hour)})
			require.NoError(t, err)
			x := b.Features["x"]
			require.Len(t, x.Num, len(values)+3*btoi(layout.name != "jsonb"))
			for i, v := range values {
				f, _ := strconv.ParseFloat(v, 64)
				if math.IsInf(f, 0) {
					require.True(t, math.IsNaN(x.Num[i]), "%s read as %v", v, x.Num[i])
					continue
				}
				require.Equal(t, f, x.Num[i], v)
			}
		})
	}
	fmt.Fprintf(testWriter{t}, "%d values, bins %v\n", len(values), want)
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func sum(xs []float64) float64 {
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return s
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) { w.t.Log(string(p)); return len(p), nil }
