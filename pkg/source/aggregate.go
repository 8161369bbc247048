package source

import (
	"context"
	"time"
)

// Windows are the windows of a query: the point at Ends[i] summarises the records with
// Ends[i] − Width < ts <= Ends[i] (DESIGN §5). Ends are ascending.
type Windows struct {
	Ends  []time.Time
	Width time.Duration
}

// Overlapping reports whether a record can fall in more than one window.
func (w Windows) Overlapping() bool {
	for i := 1; i < len(w.Ends); i++ {
		if w.Ends[i].Sub(w.Ends[i-1]) < w.Width {
			return true
		}
	}
	return false
}

// AggRequest asks a source to aggregate one model's records per window in the database.
type AggRequest struct {
	Model string
	// Version is empty for every version together, else that version's records only.
	Version string
	// SplitVersions gives one group per version (query version "*").
	SplitVersions bool
	Windows       Windows
}

// GroupCounts are one version group's records and error records per window (Version is "" when
// versions are not split, and for records without a version).
type GroupCounts struct {
	Version        string
	Counts, Errors []float64
}

// GroupPercentiles are one version group's type-7 percentiles per window: Values[j][i] is the
// j-th percentile of window i (NaN when N[i] is 0), N[i] the values in window i.
type GroupPercentiles struct {
	Version string
	N       []float64
	Values  [][]float64
}

// BinVar is one variable of Aggregator.WindowBins: a numeric variable is counted per bin of its
// interior edges e (ascending; none: every value in bin 0), b = the number of edges <= v
// (e_b <= v < e_{b+1} with open outer bins, DESIGN §5); a categorical one per value.
type BinVar struct {
	Name        string
	Categorical bool
	Edges       []float64
}

// VarBins are one variable's counts per window: for a numeric variable Counts[i][b] is the number
// of values of window i in bin b (len(Edges)+1 bins); for a categorical one Counts[i][c] counts
// Categories[c] in window i.
type VarBins struct {
	Categories []string
	Counts     [][]float64
}

// GroupVarBins are one version group's counts of each BinVar, in the order asked.
type GroupVarBins struct {
	Version string
	Vars    []VarBins
}

// Aggregator is implemented by sources that aggregate records in the database (pkg/source/sql):
// the query handlers use it when the resolved source has it and the statistic allows it, so that
// counts move instead of rows; otherwise they read raw records. variable is a feature, or
// "prediction", "score" or "latency". Only present values count (nulls, NaN and ±Inf are left out,
// as the raw path does), and a window without values has no entry (zero counts, NaN percentiles).
type Aggregator interface {
	WindowCounts(ctx context.Context, req AggRequest) ([]GroupCounts, error)
	WindowPercentiles(ctx context.Context, req AggRequest, variable string, ps []float64) ([]GroupPercentiles, error)
	// WindowBins counts several variables' values per window and bin (or category) in one pass
	// over the records: the binned drift measures of every feature of a query.
	WindowBins(ctx context.Context, req AggRequest, vars []BinVar) ([]GroupVarBins, error)
}
