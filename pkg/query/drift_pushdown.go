package query

import (
	"context"
	"slices"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// driftRecords reads the current records of a drift-like query. Without agg, every model's
// records with only the columns of its specs. With agg (push-down), the specs whose methods are all
// binned are counted by the source per window (pushed) and only the other specs' columns are read;
// a model whose specs are all pushed reads no rows at all (with version "*" its versions come from
// the window counts). A model split by version that has records without a version, or more than
// limits.MaxVersions versions, reads raw rows.
func (h *Handler) driftRecords(ctx context.Context, src Resolved, agg source.Aggregator, q *Query, g grid, models []source.Model, specs []driftModel,
	start, end time.Time) ([]fetched, []data.Notice, error) {
	out := make([]fetched, len(models))
	pushed := make([]map[string]bool, len(models))
	var rawModels []source.Model
	var rawIdx []int
	var rawVars []string
	var notices []data.Notice
	for i, m := range models {
		var vars []string
		// Shifted references compare each window with other records, and PCA reads every numeric
		// column: both need the raw rows.
		if agg != nil && !shiftedKind(q.Reference) && !slices.Contains(q.Methods, MethodPCAReconstruction) &&
			!(q.Version == WildcardAllVersions && len(m.Versions) > limits.MaxVersions) {
			pushed[i] = map[string]bool{}
			for _, s := range specs[i].specs {
				if s.binnedOnly() {
					pushed[i][s.name] = true
				}
			}
		}
		for _, s := range specs[i].specs {
			if !pushed[i][s.name] {
				vars = append(vars, s.name)
			}
		}
		if len(vars) == 0 && len(pushed[i]) > 0 {
			// Every spec pushed: no rows; the window counts give the versions and the notice.
			gs, err := agg.WindowCounts(ctx, aggRequest(m.Name, q, g))
			if err != nil {
				return nil, nil, sourceError(src.Name, err)
			}
			stub := &source.Batch{Model: m.Name}
			total := 0.0
			ok := true
			for _, gc := range gs {
				n := 0.0
				for _, c := range gc.Counts {
					n += c
				}
				total += n
				if q.Version == WildcardAllVersions && n > 0 {
					if gc.Version == "" {
						ok = false // records without a version: the raw path groups them
					}
					stub.TS = append(stub.TS, 0)
					stub.Version = append(stub.Version, int32(len(stub.Versions))) // #nosec G115 -- at most limits.MaxVersions
					stub.Versions = append(stub.Versions, gc.Version)
				}
			}
			if ok {
				if total == 0 {
					notices = append(notices, noRecordsNotice(m.Name, q.Version, g))
				}
				out[i] = fetched{model: m, batch: stub, pushed: pushed[i]}
				continue
			}
			pushed[i] = nil
			vars = vars[:0]
			for _, s := range specs[i].specs {
				vars = append(vars, s.name)
			}
		}
		rawModels, rawIdx = append(rawModels, m), append(rawIdx, i)
		for _, v := range vars {
			if !slices.Contains(rawVars, v) {
				rawVars = append(rawVars, v)
			}
		}
	}
	if len(rawModels) > 0 {
		if rawVars == nil {
			rawVars = []string{}
		}
		// With push-down, the specs that need raw values (ks, wasserstein) read their columns from
		// the source's sample of the range (fetchSampledOf) rather than the newest records.
		fetch := h.fetchRecordsOf
		if agg != nil && !shiftedKind(q.Reference) && !slices.Contains(q.Methods, MethodPCAReconstruction) {
			fetch = h.fetchSampledOf
		}
		fs, fnotices, err := fetch(ctx, src, rawModels, q.Version, start, end, rawVars)
		if err != nil {
			return nil, nil, err
		}
		notices = append(notices, fnotices...)
		for j, i := range rawIdx {
			f := fs[j]
			f.pushed = pushed[i]
			if q.Version == WildcardAllVersions && len(f.pushed) > 0 {
				for _, grp := range groups(f.batch, q.Version) {
					if grp.version == "" {
						f.pushed = nil
						break
					}
				}
				if f.pushed == nil {
					// The pushed specs' columns were not read: read the model again with all of them.
					names := make([]string, 0, len(specs[i].specs))
					for _, s := range specs[i].specs {
						names = append(names, s.name)
					}
					again, _, err := fetch(ctx, src, []source.Model{f.model}, q.Version, start, end, names)
					if err != nil {
						return nil, nil, err
					}
					f.batch = again[0].batch
				}
			}
			out[i] = f
		}
	}
	return out, notices, nil
}

// pushedCounts asks the source, in one statement, for the window counts of every pushed spec of
// a model's version group (calcs[j] is spec j's calculator, nil when not pushed): bin counts over
// the reference's edges (numeric; none without reference values) or category counts. Counting
// every feature in one pass reads the rows once, not once per feature. out[j] is nil for a spec
// not pushed, and when the group has no records.
func (h *Handler) pushedCounts(ctx context.Context, src Resolved, q *Query, g grid, model, version string, calcs []*driftCalc) ([]*source.VarBins, error) {
	out := make([]*source.VarBins, len(calcs))
	agg, ok := h.aggregator(src)
	if !ok {
		return out, nil
	}
	var vars []source.BinVar
	var idx []int
	for j, c := range calcs {
		if c == nil {
			continue
		}
		v := source.BinVar{Name: c.spec.name, Categorical: c.spec.kind == source.Categorical}
		if !v.Categorical && len(c.refSorted) > 0 {
			v.Edges = c.edges
		}
		vars, idx = append(vars, v), append(idx, j)
	}
	if len(vars) == 0 {
		return out, nil
	}
	req := aggRequest(model, q, g)
	if q.Version == WildcardAllVersions {
		req.SplitVersions, req.Version = false, version
	}
	gs, err := agg.WindowBins(ctx, req, vars)
	if err != nil {
		return nil, sourceError(src.Name, err)
	}
	if len(gs) == 0 {
		return out, nil
	}
	for k, j := range idx {
		if k < len(gs[0].Vars) {
			out[j] = &gs[0].Vars[k]
		}
	}
	return out, nil
}

// pushedDrift computes a pushed spec's drift per window from its counts (pushedCounts; nil when
// the group has no records).
func pushedDrift(g grid, calc *driftCalc, vb *source.VarBins, emit func(i int, v values, n int)) {
	for i := range g.times {
		if vb == nil || i >= len(vb.Counts) {
			emit(i, nanValues(), 0)
			continue
		}
		switch {
		case calc.spec.kind == source.Categorical:
			v, n := calc.fromCategoryCounts(vb.Categories, vb.Counts[i])
			emit(i, v, n)
		case len(calc.refSorted) == 0:
			// No reference values: drift is undefined; the raw path still counts the window's values.
			n := 0.0
			for _, x := range vb.Counts[i] {
				n += x
			}
			emit(i, nanValues(), int(n))
		default:
			v, n := calc.fromBinCounts(vb.Counts[i])
			emit(i, v, n)
		}
	}
}
