package query

// Drift you can act on (DESIGN §4 `significance`, `correction`, `persistence`; §5 "Multiple
// testing"): three optional stages a drift query runs after it has computed every window's
// values, in this order.
//
//  1. significance: true — for psi, js, hellinger, tvd and wasserstein_norm, per series and
//     window, the p-value of the window's value under "no drift" (label method "<m>_pvalue") and
//     the smallest value that would be significant at this window's size (method "<m>_critical").
//     The null distribution is the measure's sampling distribution when the window's n values are
//     drawn from the reference itself: limits.SignificanceResamples (B = 999) seeded resamples
//     (stats.BootstrapBinned against the reference binning; stats.BootstrapWasserstein divided by
//     the reference's standard deviation, as wasserstein_norm is). The p-value is
//     (1 + #{T_b >= value}) / (B + 1): Monte-Carlo standard error sqrt(p(1−p)/B), 0.0069 at
//     p = 0.05; the smallest p-value is 0.001. The critical value is at alpha = the drift threshold
//     of "<m>_pvalue" (default 0.05, thresholds.<m>_pvalue overrides it): the 95th percentile of
//     the null distribution with the defaults; a value above it has a p-value <= alpha. Windows of
//     similar sizes share one null distribution (n on a geometric grid, refstats.SignificanceN),
//     kept with the cached reference. The "<m>_pvalue" methods have the p-value thresholds of
//     ks_pvalue (warning below 0.15, drift below 0.05); with significance the status of a measure
//     is the lesser of its value's status and its p-value's: drift needs a large effect that is
//     also unlikely to be noise at this n (a window whose p-value could not be had keeps its
//     value's status).
//  2. correction: "bh" | "bonferroni" — the p-values of each p-value method (ks_pvalue,
//     chi2_pvalue, and the "<m>_pvalue" of significance) are adjusted together over every series
//     (models, versions, features) and window of the query: stats.AdjustBH
//     (= statsmodels multipletests 'fdr_bh') or stats.AdjustBonferroni, m = the number of non-NaN
//     p-values of that method. The adjusted values replace the raw ones (the series gain the label
//     correction) and the status uses them. Critical values stay per test (uncorrected).
//  3. persistence: {"windows": k} — each series is reduced over its last k windows to its least
//     severe value: for a distance and the status the minimum, for a p-value the maximum, for a
//     critical value the maximum. An alert on the result fires only when all of the last k
//     windows were beyond the threshold; a window without a value makes the result NaN (not
//     sustained). With output latest, the point at the end of the range becomes k windows ending
//     there (window = the query's window, or the range split in k); in a time series each point
//     is reduced over itself and the k − 1 points before it (the first k − 1 points are NaN).

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// Corrections (DESIGN §4 `correction`).
const (
	CorrectionNone       = "none"
	CorrectionBH         = "bh"
	CorrectionBonferroni = "bonferroni"
)

// Corrections lists the accepted values of Query.Correction.
var Corrections = []string{CorrectionNone, CorrectionBH, CorrectionBonferroni}

// Persistence asks a drift query for sustained values (stage 3 above).
type Persistence struct {
	// Windows is k, the number of consecutive windows a value must hold for.
	Windows int `json:"windows"`
}

// MaxPersistenceWindows bounds persistence.windows.
const MaxPersistenceWindows = limits.MaxPersistenceWindows

// SignificanceMethods are the measures `significance` gives a p-value and a critical value.
var SignificanceMethods = []string{MethodPSI, MethodJS, MethodHellinger, MethodTVD, MethodWassersteinNorm}

// Suffixes of the series significance adds to a measure m: "<m>_pvalue" and "<m>_critical".
const (
	PValueSuffix   = "_pvalue"
	CriticalSuffix = "_critical"
)

// significancePValue names the p-value series of a significance measure ("psi_pvalue").
func significancePValue(m string) string { return m + PValueSuffix }

// isSignificancePValue reports whether m is "<m>_pvalue" of a significance measure.
func isSignificancePValue(m string) bool {
	base, ok := strings.CutSuffix(m, PValueSuffix)
	return ok && slices.Contains(SignificanceMethods, base)
}

// defaultSignificanceThreshold is the threshold of "<m>_pvalue": that of ks_pvalue.
var defaultSignificanceThreshold = statusThreshold{Warning: 0.15, Drift: 0.05, LowerIsWorse: true}

// validateActionable checks significance, correction and persistence (Validate calls it).
func validateActionable(q *Query) error {
	if len(q.Correction) > limits.MaxNameLength {
		return userError("correction is %d bytes long; at most %d are accepted", len(q.Correction), limits.MaxNameLength)
	}
	if q.Correction != "" && !slices.Contains(Corrections, q.Correction) {
		return userError("unknown correction %s (one of %s)", quoteName(q.Correction), quoteAll(Corrections))
	}
	used := q.Significance || (q.Correction != "" && q.Correction != CorrectionNone) || q.Persistence != nil
	if !used {
		return nil
	}
	if q.QueryType != TypeDrift {
		return userError("significance, correction and persistence apply to drift queries only, not %s", q.QueryType)
	}
	if q.Output == OutputTable {
		return userError("significance, correction and persistence apply to the timeseries and latest outputs of drift, not the table")
	}
	if r := q.Reference; r != nil && (shiftedKind(r) || r.Kind == ReferenceFeast) {
		return userError("significance, correction and persistence need a dataset or window reference, not %s", quoteName(r.Kind))
	}
	if p := q.Persistence; p != nil && (p.Windows < 1 || p.Windows > MaxPersistenceWindows) {
		return userError("persistence.windows %d is outside [1, %d]", p.Windows, MaxPersistenceWindows)
	}
	if q.Significance && len(q.Methods) > 0 && !slices.ContainsFunc(q.Methods, func(m string) bool {
		return slices.Contains(SignificanceMethods, m)
	}) {
		return userError("significance needs at least one of the methods %s", describeMethods(SignificanceMethods))
	}
	return nil
}

// persistenceWindows is k (1 when persistence is not asked).
func persistenceWindows(q *Query) int {
	if q.Persistence == nil || q.Persistence.Windows < 1 {
		return 1
	}
	return q.Persistence.Windows
}

// persistentGrid turns the single point of a latest grid into k windows ending at it: the
// query's window, or the range split in k.
func persistentGrid(g grid, k int, window string) grid {
	if !g.latest || k <= 1 {
		return g
	}
	w := g.window
	if window == "" {
		w = g.step / time.Duration(k)
		if w <= 0 {
			w = time.Nanosecond
		}
	}
	to := g.times[0]
	times := make([]time.Time, k)
	for j := range times {
		times[j] = to.Add(-time.Duration(k-1-j) * w)
	}
	return grid{times: times, step: w, window: w, latest: true}
}

// driftPost collects the per-window values of a drift query's series for the stages above; nil
// when none is asked (the drift handler then builds its series as it goes).
type driftPost struct {
	q        *Query
	strategy string
	bins     int
	runs     []*driftRun
	// simulated counts the null distributions simulated by this query (MaxSignificanceSimulations).
	simulated, skipped int
	degenerate         []string
}

// driftRun is one model (version) and feature: its values and value counts per window.
type driftRun struct {
	model string
	grp   group
	spec  *featureSpec
	ref   refSample
	calc  *driftCalc
	vals  []values
	ns    []int
	// sig holds "<m>_pvalue" and "<m>_critical" per window for each significance method of the spec.
	pv, crit map[string][]float64
}

func newDriftPost(q *Query, strategy string, bins int) *driftPost {
	if !q.Significance && (q.Correction == "" || q.Correction == CorrectionNone) && q.Persistence == nil {
		return nil
	}
	return &driftPost{q: q, strategy: strategy, bins: bins}
}

// track starts a run of len(times) windows.
func (p *driftPost) track(model string, grp *group, spec *featureSpec, ref refSample, calc *driftCalc, windows int) *driftRun {
	if p == nil {
		return nil
	}
	r := &driftRun{model: model, grp: *grp, spec: spec, ref: ref, calc: calc, vals: make([]values, windows), ns: make([]int, windows)}
	p.runs = append(p.runs, r)
	return r
}

func (r *driftRun) set(i int, v *values, n int) {
	if r != nil {
		r.vals[i], r.ns[i] = *v, n
	}
}

// sigMethods are the significance measures a run needs: those it outputs or its status uses.
func (r *driftRun) sigMethods() []string {
	var out []string
	for _, m := range r.spec.need {
		if slices.Contains(SignificanceMethods, m) {
			out = append(out, m)
		}
	}
	return out
}

// finish runs the stages and adds the series to out.
func (p *driftPost) finish(ctx context.Context, out *seriesSet, g grid, th map[string]statusThreshold, info *frames.Info) error {
	if p.q.Significance {
		for _, r := range p.runs {
			if err := p.significance(ctx, r, th); err != nil {
				return err
			}
		}
		if p.skipped > 0 {
			info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf(
				"significance: %d window(s) have no p-value yet: this query simulated its limit of %d null distributions; the next refresh continues (they are cached)",
				p.skipped, limits.MaxSignificanceSimulations)))
		}
		if len(p.degenerate) > 0 {
			info.Notices = append(info.Notices, frames.InfoNotice("significance: no null distribution for "+strings.Join(dedupe(p.degenerate), ", ")+" (the reference has fewer than two values or one bin)"))
		}
	}
	if c := p.q.Correction; c == CorrectionBH || c == CorrectionBonferroni {
		if n := p.correct(); n > 0 {
			info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("p-values adjusted by %s over the features and windows of this query (%d p-values)", correctionName(c), n)))
		}
	}
	k := persistenceWindows(p.q)
	for _, r := range p.runs {
		p.emit(out, g, r, th, k)
	}
	return nil
}

func correctionName(c string) string {
	if c == CorrectionBH {
		return "Benjamini–Hochberg"
	}
	return "Bonferroni"
}

// nullKey is the cache key of a run's null distribution of method m at window size n.
func (p *driftPost) nullKey(r *driftRun, m string, n int) refstats.NullKey {
	k := refstats.NullKey{Variable: r.spec.name, Method: m, N: refstats.SignificanceN(n)}
	switch {
	case m == MethodWassersteinNorm:
	case r.spec.kind == source.Categorical:
		k.Strategy = refstats.StrategyCategorical
	default:
		k.Strategy, k.Bins = p.strategy, p.bins
	}
	return k
}

// simulator returns the simulation of a run's null distribution of m at grid size n, nil when
// the reference cannot give one.
func (p *driftPost) simulator(r *driftRun, m string, key refstats.NullKey) func(stats.Check) ([]float64, error) {
	n := key.N
	if m == MethodWassersteinNorm {
		sorted := r.calc.refSorted
		if len(sorted) < 2 {
			return nil
		}
		scale := stats.WassersteinNormalize(1, r.calc.refStd)
		return func(check stats.Check) ([]float64, error) {
			w, err := stats.BootstrapWasserstein(sorted, n, limits.SignificanceResamples, limits.SignificanceMaxDraws, key.Seed(), check)
			for i := range w {
				w[i] *= scale
			}
			return w, err
		}
	}
	var counts []float64
	if r.spec.kind == source.Categorical {
		_, counts = r.ref.Categories(r.spec.name)
	} else {
		counts = r.calc.refCounts
	}
	if len(counts) < 2 {
		return nil
	}
	prop := stats.Proportions(counts, nil)
	measure := func(pp, qq []float64) float64 { return r.calc.binned(m, pp, qq, nil, nil) }
	return func(check stats.Check) ([]float64, error) {
		return stats.BootstrapBinned(prop, n, limits.SignificanceResamples, measure, key.Seed(), check)
	}
}

// null returns the null distribution of key, from the reference's cache when it keeps one
// (*refstats.Prepared), within the query's simulation budget; nil when there is none.
func (p *driftPost) null(ctx context.Context, r *driftRun, m string, key refstats.NullKey) ([]float64, error) {
	prep, cached := r.ref.(*refstats.Prepared)
	if cached {
		if v := prep.CachedNull(key); v != nil {
			return v, nil
		}
	}
	sim := p.simulator(r, m, key)
	if sim == nil {
		p.degenerate = append(p.degenerate, r.model+"/"+r.spec.name+" "+m)
		return nil, nil
	}
	if p.simulated >= limits.MaxSignificanceSimulations {
		p.skipped++
		return nil, nil
	}
	p.simulated++
	if !cached {
		return sim(ctx.Err)
	}
	v, _, err := prep.Null(ctx, key, sim)
	return v, err
}

// significance fills a run's p-values and critical values.
func (p *driftPost) significance(ctx context.Context, r *driftRun, th map[string]statusThreshold) error {
	r.pv, r.crit = map[string][]float64{}, map[string][]float64{}
	for _, m := range r.sigMethods() {
		alpha := sigThreshold(th, m).Drift
		pv, crit := make([]float64, len(r.vals)), make([]float64, len(r.vals))
		local := map[int][]float64{}
		for i := range r.vals {
			pv[i], crit[i] = math.NaN(), math.NaN()
			n := r.ns[i]
			if n < 1 {
				continue
			}
			key := p.nullKey(r, m, n)
			null, ok := local[key.N]
			if !ok {
				var err error
				if null, err = p.null(ctx, r, m, key); err != nil {
					return err
				}
				local[key.N] = null
			}
			if len(null) == 0 {
				continue
			}
			pv[i] = stats.BootstrapPValue(null, r.vals[i][methodIndex[m]])
			crit[i] = stats.CriticalValue(null, alpha)
		}
		r.pv[m], r.crit[m] = pv, crit
	}
	return nil
}

// sigThreshold is the threshold of "<m>_pvalue": thresholds.<m>_pvalue over the default.
func sigThreshold(th map[string]statusThreshold, m string) statusThreshold {
	if t, ok := th[significancePValue(m)]; ok {
		return t
	}
	return defaultSignificanceThreshold
}

// correct adjusts each p-value method over all runs and windows; it returns how many p-values
// were adjusted.
func (p *driftPost) correct() int {
	type slot struct {
		run *driftRun
		m   string // ks_pvalue, chi2_pvalue or a significance measure (its p-value)
		i   int
	}
	groups := map[string][]slot{}
	var order []string
	add := func(name string, s slot) {
		if _, ok := groups[name]; !ok {
			order = append(order, name)
		}
		groups[name] = append(groups[name], s)
	}
	for _, r := range p.runs {
		for _, m := range r.spec.need {
			if m != MethodKSPValue && m != MethodChi2PValue {
				continue
			}
			for i := range r.vals {
				if !math.IsNaN(r.vals[i][methodIndex[m]]) {
					add(m, slot{r, m, i})
				}
			}
		}
		for m, pv := range r.pv {
			for i, x := range pv {
				if !math.IsNaN(x) {
					add(significancePValue(m), slot{r, m, i})
				}
			}
		}
	}
	total := 0
	for _, name := range order {
		slots := groups[name]
		ps := make([]float64, len(slots))
		get := func(s slot) *float64 {
			if isSignificancePValue(name) {
				return &s.run.pv[s.m][s.i]
			}
			return &s.run.vals[s.i][methodIndex[s.m]]
		}
		for j, s := range slots {
			ps[j] = *get(s)
		}
		adj := stats.AdjustBonferroni(ps)
		if p.q.Correction == CorrectionBH {
			adj = stats.AdjustBH(ps)
		}
		for j, s := range slots {
			*get(s) = adj[j]
		}
		total += len(slots)
	}
	return total
}

// status is the run's status in window i: the worst over its status methods, each gated by its
// p-value when significance gave one.
func (r *driftRun) status(i int, th map[string]statusThreshold) float64 {
	v := &r.vals[i]
	w, any := StatusOK, false
	for _, m := range r.spec.statusFrom {
		t, ok := th[m]
		if !ok {
			continue
		}
		st, ok := classify(v[methodIndex[m]], t)
		if !ok {
			continue
		}
		if pv, ok := r.pv[m]; ok {
			if ps, ok := classify(pv[i], sigThreshold(th, m)); ok && ps < st {
				st = ps
			}
		}
		any = true
		w = worst(w, st)
	}
	if !any {
		return math.NaN()
	}
	return float64(w)
}

// emit adds a run's series, reduced over k windows.
func (p *driftPost) emit(out *seriesSet, g grid, r *driftRun, th map[string]statusThreshold, k int) {
	corrected := p.q.Correction == CorrectionBH || p.q.Correction == CorrectionBonferroni
	add := func(method string, vals []float64, lowerIsWorse bool, corr bool) {
		l := labels(r.model, p.q, &r.grp)
		l["feature"] = r.spec.name
		l["method"] = method
		if corr {
			l["correction"] = p.q.Correction
		}
		out.add(l, "value", "", g.times, persist(vals, k, lowerIsWorse))
	}
	column := func(m string) []float64 {
		out := make([]float64, len(r.vals))
		for i := range r.vals {
			out[i] = r.vals[i][methodIndex[m]]
		}
		return out
	}
	for _, m := range r.spec.methods {
		isP := m == MethodKSPValue || m == MethodChi2PValue
		add(m, column(m), isP, corrected && isP)
	}
	for _, m := range r.spec.methods {
		if pv, ok := r.pv[m]; ok {
			add(significancePValue(m), pv, true, corrected)
			add(m+CriticalSuffix, r.crit[m], true, false)
		}
	}
	if r.spec.status {
		st := make([]float64, len(r.vals))
		for i := range st {
			st[i] = r.status(i, th)
		}
		add(MethodStatus, st, false, false)
	}
}

// persist reduces each point over itself and the k−1 points before it to the least severe value:
// the minimum, or the maximum when lower is worse (a p-value; a critical value, for which a
// larger value asks more). Fewer than k points before, or a NaN among them, give NaN.
func persist(x []float64, k int, lowerIsWorse bool) []float64 {
	if k <= 1 {
		return x
	}
	out := make([]float64, len(x))
	for i := range x {
		out[i] = math.NaN()
		if i < k-1 {
			continue
		}
		v := x[i]
		for j := i - k + 1; j <= i && !math.IsNaN(v); j++ {
			switch {
			case math.IsNaN(x[j]):
				v = math.NaN()
			case lowerIsWorse:
				v = math.Max(v, x[j])
			default:
				v = math.Min(v, x[j])
			}
		}
		out[i] = v
	}
	return out
}
