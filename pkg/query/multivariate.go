package query

// Multivariate drift (`methods: ["pca_reconstruction"]`, NannyML's data reconstruction drift):
// one number per model (version) and window that moves when the joint distribution of the
// numeric features moves, even when no single feature's does (a broken correlation).
//
//   - Fit (once per reference and set of variables, kept with the prepared reference): the
//     reference's numeric variables of the query (its numeric `features`, default all numeric input
//     features; categorical ones are left out with a notice) are imputed with their mean,
//     standardised, and a PCA (gonum's stat.PC) keeps the fewest components reaching 65 % of the
//     variance (stats.FitPCA). At most limits.MaxPCAFeatures variables; a reference above
//     limits.MaxPCAReferenceRows rows is thinned to every k-th row.
//   - Value: the mean reconstruction error ‖z − V·Vᵀ·z‖ of the window's records (records with no
//     value in any of the variables are skipped).
//   - Bounds: the reference split into chunks of limits.PCAChunkRows rows; the mean and standard
//     deviation of the chunks' mean errors give lower = max(0, mean − 3·std), upper = mean + 3·std.
//     A window averages more records than a chunk when it holds more than PCAChunkRows records, so
//     its own spread is smaller: the bounds are conservative there.
//
// Series (label `feature: "*"` — all the variables together — so that each label set stays unique
// beside the per-feature series): method `pca_reconstruction` (the error), and
// `pca_reconstruction_lower` and `pca_reconstruction_upper` (the bounds, constant over the range),
// and with method `status` asked, the status of the error: 2 (drift) outside the bounds, else 0.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// pcaVarianceShare is the share of the standardised reference's variance the kept components
// carry (NannyML's default).
const pcaVarianceShare = 0.65

// Bound series of pca_reconstruction.
const (
	pcaLower     = MethodPCAReconstruction + "_lower"
	pcaUpper     = MethodPCAReconstruction + "_upper"
	allVariables = "*"
)

// validateMultivariate checks the queries that ask for a multivariate method.
func validateMultivariate(q *Query) error {
	if !slices.Contains(q.Methods, MethodPCAReconstruction) {
		return nil
	}
	if q.Output == OutputTable {
		return userError("method %s gives a time series or latest values, not a table row: remove it from a drift table", MethodPCAReconstruction)
	}
	if shiftedKind(q.Reference) {
		return userError("method %s compares with one fitted reference: use reference.kind %q or %q, not %q",
			MethodPCAReconstruction, ReferenceDataset, ReferenceWindow, q.Reference.Kind)
	}
	return nil
}

// multivariateAsked says whether the query asks for pca_reconstruction, and whether it asks for
// per-feature series too (a per-feature method besides status, or no methods at all).
func multivariateAsked(q *Query) (pca, perFeature bool) {
	pca = slices.Contains(q.Methods, MethodPCAReconstruction)
	if !pca {
		return false, true
	}
	for _, m := range q.Methods {
		if m != MethodPCAReconstruction && m != MethodStatus {
			return true, true
		}
	}
	return true, false
}

// perFeatureMethods are the query's methods for the per-feature specs: without the multivariate
// methods (nil, the defaults, when only they and status are asked: the specs then only name the
// variables).
func perFeatureMethods(q *Query) []string {
	pca, perFeature := multivariateAsked(q)
	if pca && !perFeature {
		return nil
	}
	return slices.DeleteFunc(dedupe(q.Methods), func(m string) bool { return slices.Contains(MultivariateMethods, m) })
}

// pcaFit is a fitted PCA with its bounds, or why there is none.
type pcaFit struct {
	pca                     *stats.PCA
	mean, std, lower, upper float64
	rows, usedRows, chunks  int
	err                     error
}

// fitPCA fits the PCA of a reference over variables (memoised with the reference).
func fitPCA(ref *refstats.Prepared, vars []string) *pcaFit {
	key := MethodPCAReconstruction + "\x00" + strings.Join(vars, "\x00")
	return ref.Derived(key, func() any {
		b := ref.Batch
		n := b.Len()
		step := 1
		if n > limits.MaxPCAReferenceRows {
			step = (n + limits.MaxPCAReferenceRows - 1) / limits.MaxPCAReferenceRows
		}
		d := len(vars)
		cols := make([][]float64, d)
		for j, v := range vars {
			if c := b.Column(v); c != nil && c.Kind != source.Categorical {
				cols[j] = c.Num
			}
		}
		x := make([]float64, 0, (n/step+1)*d)
		for i := 0; i < n; i += step {
			for j := range cols {
				x = append(x, at(cols[j], int32(i), nanValue))
			}
		}
		m := len(x) / d
		f := &pcaFit{rows: n, usedRows: m}
		p, err := stats.FitPCA(x, m, d, pcaVarianceShare, nil)
		if err != nil {
			f.err = err
			return f
		}
		f.pca = p
		f.chunks = m / limits.PCAChunkRows
		f.mean, f.std, f.lower, f.upper = p.ChunkBounds(x, m, d, limits.PCAChunkRows)
		return f
	}).(*pcaFit)
}

// pcaVariables picks the numeric variables of a model's specs that the reference can standardise;
// the others are reported in notices.
func pcaVariables(dm *driftModel, ref *refstats.Prepared) ([]string, []data.Notice, error) {
	var vars, cats, flat []string
	for _, s := range dm.specs {
		switch {
		case s.kind == source.Categorical:
			cats = append(cats, s.name)
		case spread(ref.Sorted(s.name)):
			vars = append(vars, s.name)
		default:
			flat = append(flat, s.name)
		}
	}
	var notices []data.Notice
	if len(cats) > 0 {
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s: %s uses numeric features only: %s left out",
			dm.model.Name, MethodPCAReconstruction, strings.Join(cats, ", "))))
	}
	if len(flat) > 0 {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s: %s left out of %s: no spread in the reference (constant or no values)",
			dm.model.Name, strings.Join(flat, ", "), MethodPCAReconstruction)))
	}
	if len(vars) > limits.MaxPCAFeatures {
		return nil, nil, userError("%s: %s over %d numeric features; at most %d are accepted: name fewer features",
			dm.model.Name, MethodPCAReconstruction, len(vars), limits.MaxPCAFeatures)
	}
	if len(vars) < 2 {
		return nil, nil, userError("%s: %s needs at least 2 numeric features with spread in the reference, and has %d (%s)",
			dm.model.Name, MethodPCAReconstruction, len(vars), describeMethods(vars))
	}
	return vars, notices, nil
}

func spread(sorted []float64) bool { return len(sorted) >= 2 && sorted[0] != sorted[len(sorted)-1] }

// pcaSeries adds the pca_reconstruction series of one model's version group to out.
func (h *Handler) pcaSeries(ctx context.Context, dm *driftModel, grp *group, q *Query, g grid, status bool, out *seriesSet, info *frames.Info) error {
	ref, ok := dm.refs[grp.version].(*refstats.Prepared)
	if !ok {
		return fmt.Errorf("pca_reconstruction: reference of %s is a %T", dm.model.Name, dm.refs[grp.version])
	}
	vars, notices, err := pcaVariables(dm, ref)
	if err != nil {
		return err
	}
	info.Notices = append(info.Notices, notices...)
	fit := fitPCA(ref, vars)
	if fit.err != nil {
		return userError("%s: %s cannot be fitted on the reference over %s: %v", dm.model.Name, MethodPCAReconstruction, strings.Join(vars, ", "), fit.err)
	}
	text := fmt.Sprintf("%s%s: %s keeps %d of %d components (%.1f%% of the variance of %s), fitted on %d reference rows",
		dm.model.Name, versionSuffix(grp.version), MethodPCAReconstruction, fit.pca.K, len(vars), 100*fit.pca.Explained, strings.Join(vars, ", "), fit.usedRows)
	if fit.usedRows < fit.rows {
		text += fmt.Sprintf(" (every %d-th of %d, limit %d)", (fit.rows+fit.usedRows-1)/fit.usedRows, fit.rows, limits.MaxPCAReferenceRows)
	}
	if math.IsNaN(fit.upper) {
		info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf("%s: no bounds: the reference has fewer than 2 chunks of %d rows", text, limits.PCAChunkRows)))
	} else {
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("%s; bounds %.4g – %.4g: mean ± 3 std of the mean error over %d reference chunks of %d rows",
			text, fit.lower, fit.upper, fit.chunks, limits.PCAChunkRows)))
	}
	b := dm.batch
	cols := make([][]float64, len(vars))
	for j, v := range vars {
		if c := b.Column(v); c != nil && c.Kind != source.Categorical {
			cols[j] = c.Num
		}
	}
	rec := fit.pca.NewReconstructor()
	row := make([]float64, len(vars))
	errs := make([]float64, len(g.times))
	var werr error
	empty := 0
	err = g.windows(ctx, b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
		sum, n := 0.0, 0
		for p, k := range grp.idx[lo:hi] {
			if p%stats.CheckEvery == stats.CheckEvery-1 {
				if werr = ctx.Err(); werr != nil {
					return
				}
			}
			present := false
			for j := range cols {
				row[j] = at(cols[j], k, nanValue)
				present = present || !math.IsNaN(row[j])
			}
			if present {
				sum += rec.Error(row)
				n++
			}
		}
		errs[i] = math.NaN()
		if n > 0 {
			errs[i] = sum / float64(n)
		} else {
			empty++
		}
	})
	if err == nil {
		err = werr
	}
	if err != nil {
		return err
	}
	if empty > 0 {
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("%s%s: %d window(s) without values of %s: %s is not defined there",
			dm.model.Name, versionSuffix(grp.version), empty, strings.Join(vars, ", "), MethodPCAReconstruction)))
	}
	constant := func(v float64) []float64 {
		out := make([]float64, len(g.times))
		for i := range out {
			out[i] = v
		}
		return out
	}
	add := func(method string, values []float64) {
		l := labels(dm.model.Name, q, grp)
		l["feature"] = allVariables
		l["method"] = method
		out.add(l, "value", "", g.times, values)
	}
	add(MethodPCAReconstruction, errs)
	add(pcaLower, constant(fit.lower))
	add(pcaUpper, constant(fit.upper))
	if status {
		st := make([]float64, len(errs))
		for i, e := range errs {
			switch {
			case math.IsNaN(e) || math.IsNaN(fit.upper):
				st[i] = math.NaN()
			case e > fit.upper || e < fit.lower:
				st[i] = float64(StatusDrift)
			default:
				st[i] = float64(StatusOK)
			}
		}
		add(MethodStatus, st)
	}
	return nil
}
