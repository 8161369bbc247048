package query

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// predictions answers `predictions`: per window, the share of each predicted class (label `class`,
// unit percentunit) of a categorical prediction, or the type-7 percentiles of a numeric prediction
// (label `quantile`), both with output="prediction"; and the percentiles of the score
// (output="score"). Records without a prediction (or score) are skipped. `features` restricts the
// answer to "prediction" and/or "score".
func (h *Handler) predictions(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	ps := q.Percentiles
	if len(ps) == 0 {
		ps = DefaultPercentiles
	}
	ps = dedupeFloats(ps)
	wantPred, wantScore := len(q.Features) == 0, len(q.Features) == 0
	for _, f := range q.Features {
		switch f {
		case FeaturePrediction:
			wantPred = true
		case FeatureScore:
			wantScore = true
		default:
			return nil, userError("predictions queries take features %q and %q only, not %q", FeaturePrediction, FeatureScore, f)
		}
	}
	g, err := newGrid(r.dq, q.Window, q.Output == OutputLatest)
	if err != nil {
		return nil, err
	}
	src, err := h.cat.Resolve(ctx, q.Source, q.Model)
	if err != nil {
		return nil, err
	}
	if src.Log == nil {
		return nil, userError("predictions queries need the prediction log or the demo fleet (source %q has no prediction records)", src.Name)
	}
	// Only the prediction column (score is always read): a source may leave the features out.
	fetchedAll, notices, err := h.gridRecordsOf(ctx, src, q, g, []string{FeaturePrediction})
	if err != nil {
		return nil, err
	}
	var out seriesSet
	var scratch []float64
	pv := make([]float64, len(ps))
	empty := 0
	percentileSeries := func(model string, grp *group, ts []int64, col []float64, output string) error {
		vals := make([][]float64, len(ps))
		for i := range vals {
			vals[i] = make([]float64, len(g.times))
		}
		any := false
		gaps := 0
		err := g.windows(ctx, ts, grp.idx, func(i int, _ time.Time, lo, hi int) {
			scratch = scratch[:0]
			for _, k := range grp.idx[lo:hi] {
				if int(k) < len(col) && !math.IsNaN(col[k]) {
					scratch = append(scratch, col[k])
				}
			}
			if len(scratch) == 0 {
				gaps++
				for j := range ps {
					vals[j][i] = math.NaN()
				}
				return
			}
			any = true
			pv, _ = stats.PercentilesCheck(scratch, ps, pv[:0], ctx.Err) // cancelled: windows returns ctx's error next
			for j := range ps {
				vals[j][i] = pv[j]
			}
		})
		if err != nil {
			return err
		}
		if !any && output == ScoreOutputLabel {
			// A model without scores (a regressor) has no score series.
			return nil
		}
		empty += gaps
		for j, p := range ps {
			l := labels(model, q, grp)
			l["output"] = output
			l["quantile"] = quantileLabel(p)
			out.add(l, "value", "", g.times, vals[j])
		}
		return nil
	}
	for _, f := range fetchedAll {
		b := f.batch
		for _, grp := range groups(b, q.Version) {
			grp := grp
			pred := b.Prediction
			var err error
			switch {
			case !wantPred || pred == nil:
			case pred.Kind == source.Categorical:
				err = classShares(ctx, &out, g, q, f.model.Name, &grp, b.TS, pred, &empty)
			default:
				err = percentileSeries(f.model.Name, &grp, b.TS, pred.Num, DefaultOutputLabel)
			}
			if err == nil && wantScore {
				err = percentileSeries(f.model.Name, &grp, b.TS, b.Score, ScoreOutputLabel)
			}
			if err != nil {
				return nil, err
			}
		}
	}
	if empty > 0 {
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("%d window(s) had no prediction or score: no value there", empty)))
	}
	return out.frames(g, frames.Info{Source: src.Name, Notices: notices}), nil
}

// classShares adds one series per class seen in the group: per window, the class's share of the
// records with a prediction (NaN when there are none).
func classShares(ctx context.Context, out *seriesSet, g grid, q *Query, model string, grp *group, ts []int64, col *source.Column, empty *int) error {
	seen := make([]bool, len(col.Dict))
	for _, k := range grp.idx {
		if int(k) < len(col.Cat) {
			if c := col.Cat[k]; c >= 0 && int(c) < len(seen) {
				seen[c] = true
			}
		}
	}
	var classes []int32
	for c, ok := range seen {
		if ok {
			classes = append(classes, int32(c))
		}
	}
	sort.Slice(classes, func(i, j int) bool { return col.Dict[classes[i]] < col.Dict[classes[j]] })
	vals := make([][]float64, len(col.Dict))
	for _, c := range classes {
		vals[c] = make([]float64, len(g.times))
	}
	counts := make([]int, len(col.Dict))
	err := g.windows(ctx, ts, grp.idx, func(i int, _ time.Time, lo, hi int) {
		clear(counts)
		n := 0
		for _, k := range grp.idx[lo:hi] {
			if int(k) < len(col.Cat) {
				if c := col.Cat[k]; c >= 0 && int(c) < len(counts) {
					counts[c]++
					n++
				}
			}
		}
		if n == 0 {
			*empty++
		}
		for _, c := range classes {
			v := math.NaN()
			if n > 0 {
				v = float64(counts[c]) / float64(n)
			}
			vals[c][i] = v
		}
	})
	if err != nil {
		return err
	}
	for _, c := range classes {
		l := labels(model, q, grp)
		l["output"] = DefaultOutputLabel
		l["class"] = col.Dict[c]
		if l["class"] == "" {
			l["class"] = "(empty)"
		}
		out.add(l, "value", "percentunit", g.times, vals[c])
	}
	return nil
}
