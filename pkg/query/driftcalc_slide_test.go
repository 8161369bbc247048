package query

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestComputeWindowSlides: the running counts of computeWindow give bit-for-bit the values of
// compute on each window anew, over overlapping, adjacent and gapped windows, nulls, values on
// the edges and outside the reference's range, for every binned method, per version group.
func TestComputeWindowSlides(t *testing.T) {
	r := newRNG(7)
	ref := &source.Batch{Model: "m", Features: map[string]*source.Column{"x": {Kind: source.Numeric}}, FeatureNames: []string{"x"}}
	for i := 0; i < 3000; i++ {
		ref.TS = append(ref.TS, 0)
		ref.Features["x"].Num = append(ref.Features["x"].Num, math.Round(r.norm()*4)/4)
	}
	prep := refstats.NewPrepared("m", "", ref, nil)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	col := &source.Column{Kind: source.Numeric}
	var ts []int64
	var version []int32
	for i := 0; i < 20000; i++ {
		// Bursts and quiet hours: some windows are empty, some hold only nulls.
		if (i/2000)%3 == 2 {
			continue
		}
		ts = append(ts, base.Add(time.Duration(i)*1700*time.Millisecond).UnixNano())
		version = append(version, int32(i%3))
		x := math.Round((r.norm()*4+0.8)*4) / 4
		switch {
		case i%17 == 0:
			x = math.NaN()
		case i%101 == 0:
			x = 1e9
		}
		col.Num = append(col.Num, x)
	}
	b := &source.Batch{Model: "m", TS: ts, Version: version, Versions: []string{"v1", "v2", "v3"}, Features: map[string]*source.Column{"x": col}, FeatureNames: []string{"x"}}
	methods := []string{MethodPSI, MethodJS, MethodHellinger, MethodTVD, MethodKLD, MethodLInf, MethodMLRun, MethodChi2, MethodChi2PValue}
	spec := &featureSpec{name: "x", kind: source.Numeric, methods: methods, need: methods}
	for _, step := range []time.Duration{time.Minute, 7 * time.Minute, 40 * time.Minute, 3 * time.Hour} {
		var times []time.Time
		for at := base; at.Before(base.Add(10 * time.Hour)); at = at.Add(step) {
			times = append(times, at)
		}
		g := grid{times: times, window: time.Hour}
		for _, version := range []string{"", WildcardAllVersions} {
			for _, grp := range groups(b, version) {
				slid := newDriftCalc(spec, prep, BinningQuantile, DefaultBins)
				require.Len(t, slid.edges, DefaultBins-1, "the windows slide over valid edges")
				fresh := newDriftCalc(spec, prep, BinningQuantile, DefaultBins)
				windows := 0
				require.NoError(t, g.windows(context.Background(), b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
					got, gn := slid.computeWindow(col, grp.idx, lo, hi)
					want, wn := fresh.compute(col, grp.idx[lo:hi])
					require.Equal(t, wn, gn, "step %v window %d", step, i)
					for _, m := range methods {
						w, g := want[methodIndex[m]], got[methodIndex[m]]
						require.True(t, math.Float64bits(w) == math.Float64bits(g) || (math.IsNaN(w) && math.IsNaN(g)),
							"step %v window %d %s: %v, want %v", step, i, m, g, w)
					}
					if wn > 0 {
						windows++
					}
				}))
				require.Positive(t, windows)
			}
		}
	}
}
