package query

import (
	"math"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
)

// refSample is a prepared reference: what drift and distribution compare current data with
// (*refstats.Prepared implements it).
type refSample interface {
	// Rows is the number of reference records.
	Rows() int
	// Sorted returns a numeric variable's non-NaN values, ascending (shared: do not modify).
	Sorted(variable string) []float64
	// Categories returns a categorical variable's categories and their counts (nulls excluded).
	Categories(variable string) (cats []string, counts []float64)
	// Binned returns the interior edges of a numeric variable for a binning and the reference
	// counts over the len(edges)+1 bins (shared: do not modify).
	Binned(variable, strategy string, bins int) (edges, counts []float64)
}

var _ refSample = (*refstats.Prepared)(nil)

// prepareRecords prepares the records idx of b as a reference (not cached).
func prepareRecords(model, version string, b *source.Batch, idx []int32) *refstats.Prepared {
	if len(idx) != b.Len() {
		b = subBatch(b, idx)
	}
	return refstats.NewPrepared(model, version, b, nil)
}

// subBatch copies the records idx of b into a new batch (for a version's share of a reference
// window).
func subBatch(b *source.Batch, idx []int32) *source.Batch {
	out := &source.Batch{Model: b.Model, Versions: b.Versions, FeatureNames: b.FeatureNames,
		Features: make(map[string]*source.Column, len(b.Features)), Truncated: b.Truncated}
	n := len(idx)
	out.TS = make([]int64, 0, n)
	out.Version = make([]int32, 0, n)
	out.LatencyMs = make([]float64, 0, n)
	out.Error = make([]bool, 0, n)
	out.Score = make([]float64, 0, n)
	for _, k := range idx {
		out.TS = append(out.TS, b.TS[k])
		out.Version = append(out.Version, at(b.Version, k, -1))
		out.LatencyMs = append(out.LatencyMs, at(b.LatencyMs, k, nanValue))
		out.Error = append(out.Error, at(b.Error, k, false))
		out.Score = append(out.Score, at(b.Score, k, nanValue))
	}
	out.Prediction = subColumn(b.Prediction, idx)
	out.Label = subColumn(b.Label, idx)
	for name, c := range b.Features {
		out.Features[name] = subColumn(c, idx)
	}
	return out
}

var nanValue = math.NaN()

func at[T any](xs []T, k int32, def T) T {
	if int(k) < len(xs) {
		return xs[k]
	}
	return def
}

func subColumn(c *source.Column, idx []int32) *source.Column {
	if c == nil {
		return nil
	}
	out := &source.Column{Kind: c.Kind, Dict: c.Dict}
	if c.Kind == source.Categorical {
		out.Cat = make([]int32, 0, len(idx))
		for _, k := range idx {
			out.Cat = append(out.Cat, at(c.Cat, k, -1))
		}
		return out
	}
	out.Num = make([]float64, 0, len(idx))
	for _, k := range idx {
		out.Num = append(out.Num, at(c.Num, k, nanValue))
	}
	return out
}
