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

// pushedDrift computes a pushed spec's drift per window from the counts the source returns for
// one version group: bin counts over the reference's edges (numeric) or category counts.
func (h *Handler) pushedDrift(ctx context.Context, src Resolved, q *Query, g grid, model, version string, calc *driftCalc, emit func(i int, v values, n int)) error {
	agg, ok := h.aggregator(src)
	if !ok {
		return nil
	}
	req := aggRequest(model, q, g)
	if q.Version == WildcardAllVersions {
		req.SplitVersions, req.Version = false, version
	}
	if calc.spec.kind == source.Categorical {
		gs, err := agg.WindowCategoryCounts(ctx, req, calc.spec.name)
		if err != nil {
			return sourceError(src.Name, err)
		}
		for i := range g.times {
			var v values
			n := 0
			if len(gs) > 0 {
				v, n = calc.fromCategoryCounts(gs[0].Categories, gs[0].Counts[i])
			} else {
				v = nanValues()
			}
			emit(i, v, n)
		}
		return nil
	}
	if len(calc.refSorted) == 0 {
		// No reference values: drift is undefined; the raw path still counts the window's values.
		gs, err := agg.WindowBinCounts(ctx, req, calc.spec.name, nil)
		if err != nil {
			return sourceError(src.Name, err)
		}
		for i := range g.times {
			n := 0
			if len(gs) > 0 {
				n = int(gs[0].Counts[i][0])
			}
			emit(i, nanValues(), n)
		}
		return nil
	}
	gs, err := agg.WindowBinCounts(ctx, req, calc.spec.name, calc.edges)
	if err != nil {
		return sourceError(src.Name, err)
	}
	for i := range g.times {
		if len(gs) == 0 {
			emit(i, nanValues(), 0)
			continue
		}
		v, n := calc.fromBinCounts(gs[0].Counts[i])
		emit(i, v, n)
	}
	return nil
}
