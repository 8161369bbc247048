package query

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// methodIndex numbers the drift methods (positions in DriftMethods) for fixed-size value arrays.
var methodIndex = func() map[string]int {
	m := make(map[string]int, len(DriftMethods))
	for i, name := range DriftMethods {
		m[name] = i
	}
	return m
}()

// numericOnly are the methods computed on raw samples; they do not apply to categorical variables.
var numericOnly = []string{MethodKS, MethodKSPValue, MethodWasserstein, MethodWassersteinNorm}

// values holds one value per drift method (indexed by methodIndex).
type values [14]float64

func nanValues() values {
	var v values
	for i := range v {
		v[i] = math.NaN()
	}
	return v
}

// featureSpec is what a drift query computes for one variable.
type featureSpec struct {
	name string
	kind source.Kind
	// methods are the value methods to output (status excluded), in query order.
	methods []string
	// status is whether the status method is output; statusFrom are the methods it is the worst of.
	status     bool
	statusFrom []string
	// need is methods ∪ statusFrom (∪ extra), computed per window.
	need []string
	th   map[string]statusThreshold
}

// thresholds merges a query's overrides with the defaults of DESIGN §5.
func thresholds(over map[string]Threshold) (map[string]statusThreshold, error) {
	out := map[string]statusThreshold{}
	for _, m := range DriftMethods {
		if th, ok := defaultThreshold(m); ok {
			out[m] = th
		}
	}
	for m, o := range over {
		th, ok := out[m]
		if isSignificancePValue(m) {
			// Defaults of the significance p-values (significance.go).
			th, ok = defaultSignificanceThreshold, true
		}
		th.LowerIsWorse = slices.Contains(lowerIsWorse, m) || isSignificancePValue(m)
		if o.Warning != nil {
			th.Warning = *o.Warning
		}
		if o.Drift != nil {
			th.Drift = *o.Drift
		}
		if !ok && (o.Warning == nil || o.Drift == nil) {
			return nil, userError("thresholds.%s needs both warning and drift", m)
		}
		if (th.LowerIsWorse && th.Warning < th.Drift) || (!th.LowerIsWorse && th.Warning > th.Drift) {
			rel, why := "<=", ""
			if th.LowerIsWorse {
				rel, why = ">=", " for a p-value"
			}
			switch {
			case o.Drift == nil:
				return nil, userError("thresholds.%s: warning (%v) must be %s the default drift threshold (%v)%s; give drift as well", m, th.Warning, rel, th.Drift, why)
			case o.Warning == nil:
				return nil, userError("thresholds.%s: drift (%v) must be %s the default warning threshold (%v)%s; give warning as well", m, th.Drift, map[string]string{"<=": ">=", ">=": "<="}[rel], th.Warning, why)
			}
			return nil, userError("thresholds.%s: warning (%v) must be %s drift (%v)%s", m, th.Warning, rel, th.Drift, why)
		}
		out[m] = th
	}
	return out, nil
}

// specFor builds the spec of one variable. explicit says whether the user named the features;
// then methods that do not apply to the variable's kind are an error, otherwise they are skipped
// (and reported through skipped).
func specFor(name string, kind source.Kind, asked []string, explicit bool, th map[string]statusThreshold, extra []string) (featureSpec, []string, error) {
	s := featureSpec{name: name, kind: kind, th: th}
	var skipped []string
	for _, m := range asked {
		if m == MethodStatus {
			s.status = true
			continue
		}
		if kind == source.Categorical && slices.Contains(numericOnly, m) {
			if explicit {
				return s, nil, userError("method %s does not apply to categorical feature %q (it needs numeric samples); remove it or pick numeric features", m, name)
			}
			skipped = append(skipped, m)
			continue
		}
		s.methods = append(s.methods, m)
	}
	if len(asked) == 0 {
		s.methods = defaultMethods(kind)
	}
	if s.status {
		s.statusFrom = s.methods
		if len(s.statusFrom) == 0 {
			s.statusFrom = defaultMethods(kind)
		}
		if err := s.checkStatus(); err != nil {
			return s, nil, err
		}
	}
	s.need = dedupe(append(append(append([]string{}, s.methods...), s.statusFrom...), extra...))
	if kind == source.Categorical {
		s.need = slices.DeleteFunc(s.need, func(m string) bool { return slices.Contains(numericOnly, m) })
	}
	return s, skipped, nil
}

func defaultMethods(kind source.Kind) []string {
	if kind == source.Categorical {
		return DefaultCategoricalMethods
	}
	return DefaultNumericMethods
}

// checkStatus reports a status that could never have a value: none of the methods it is the worst
// of has thresholds (ks, wasserstein, tvd and chi2 have no defaults).
func (s *featureSpec) checkStatus() error {
	for _, m := range s.statusFrom {
		if _, ok := s.th[m]; ok {
			return nil
		}
	}
	return userError("method status needs thresholds for at least one of %s (they have no defaults): add thresholds.%s with warning and drift, or a method with default thresholds such as %s",
		describeMethods(s.statusFrom), s.statusFrom[0], describeMethods(methodsWithDefaults))
}

// statusOf is the worst status of the spec's statusFrom methods, NaN when none has a value.
func (s *featureSpec) statusOf(v *values) float64 {
	w, any := StatusOK, false
	for _, m := range s.statusFrom {
		th, ok := s.th[m]
		if !ok {
			continue
		}
		st, ok := classify(v[methodIndex[m]], th)
		if !ok {
			continue
		}
		any = true
		w = worst(w, st)
	}
	if !any {
		return math.NaN()
	}
	return float64(w)
}

// driftCalc computes drift of one variable against one reference, reusing its buffers across
// windows. Not safe for concurrent use.
type driftCalc struct {
	spec *featureSpec
	// check stops the sort of a large window when the query is cancelled (nil: never).
	check stats.Check
	// numeric reference
	refSorted, edges, refCounts, p []float64
	refStd                         float64
	// categorical reference
	refCats   []string
	refCatCnt []float64
	catIndex  map[string]int

	cur, curCounts, q, rc, cc []float64
	codeMap                   []int
	codeDict                  []string
	// needsKS and needsW say whether the methods need the KS statistic and the Wasserstein distance.
	needsKS, needsW bool
	// slide is the running bin counts of computeWindow.
	slide slide
}

// slide is the bin counts of the records idx[lo:hi] of column col, kept between the windows of
// one series as they move forward.
type slide struct {
	col    *source.Column
	idx    []int32
	lo, hi int
	counts []float64
	n      int
}

// follows reports whether the window idx[lo:hi] of col moves s forward and overlaps it.
func (s *slide) follows(col *source.Column, idx []int32, lo, hi int) bool {
	return s.col == col && len(s.idx) == len(idx) && len(idx) > 0 && &s.idx[0] == &idx[0] &&
		lo >= s.lo && hi >= s.hi && lo <= s.hi
}

// move adds the records entering at the top and removes those leaving at the bottom.
func (s *slide) move(edges []float64, idx []int32, lo, hi int) {
	num := s.col.Num
	for _, k := range idx[s.hi:hi] {
		if int(k) < len(num) {
			if x := num[k]; x == x {
				s.counts[stats.Bin(edges, x)]++
				s.n++
			}
		}
	}
	for _, k := range idx[s.lo:lo] {
		if int(k) < len(num) {
			if x := num[k]; x == x {
				s.counts[stats.Bin(edges, x)]--
				s.n--
			}
		}
	}
	s.lo, s.hi = lo, hi
}

// computeWindow is compute for the records idx[lo:hi] of col, where successive calls of a series
// pass the same idx with windows moving forward (grid.windows). When every method is binned, the
// previous window's counts are updated with the records that entered and left it: each record is
// binned twice in all rather than once per window that holds it, and the counts are the same
// integers Counts gives. Other methods, and categorical variables (counted by code, no search),
// compute each window anew.
func (c *driftCalc) computeWindow(col *source.Column, idx []int32, lo, hi int) (values, int) {
	if col == nil || c.spec.kind == source.Categorical || c.needsKS || c.needsW || len(c.refSorted) == 0 || !stats.ValidEdges(c.edges) {
		return c.compute(col, idx[lo:hi])
	}
	s := &c.slide
	if !s.follows(col, idx, lo, hi) || (lo-s.lo)+(hi-s.hi) > hi-lo {
		*s = slide{col: col, idx: idx, lo: lo, hi: lo, counts: append(s.counts[:0], make([]float64, len(c.edges)+1)...)}
	}
	s.move(c.edges, idx, lo, hi)
	v := nanValues()
	if s.n == 0 {
		return v, 0
	}
	c.curCounts = append(c.curCounts[:0], s.counts...)
	c.q = stats.Proportions(c.curCounts, c.q[:0])
	for _, m := range c.spec.need {
		v[methodIndex[m]] = c.binned(m, c.p, c.q, c.refCounts, c.curCounts)
	}
	return v, s.n
}

// newDriftCalc prepares a variable's reference data; strategy and bins select the binning.
func newDriftCalc(spec *featureSpec, ref refSample, strategy string, bins int) *driftCalc {
	c := &driftCalc{spec: spec}
	for _, m := range spec.need {
		c.needsKS = c.needsKS || m == MethodKS || m == MethodKSPValue
		c.needsW = c.needsW || m == MethodWasserstein || m == MethodWassersteinNorm
	}
	if spec.kind == source.Categorical {
		c.refCats, c.refCatCnt = ref.Categories(spec.name)
		c.catIndex = make(map[string]int, len(c.refCats))
		for i, s := range c.refCats {
			c.catIndex[s] = i
		}
		return c
	}
	c.refSorted = ref.Sorted(spec.name)
	c.edges, c.refCounts = ref.Binned(spec.name, strategy, bins)
	c.p = stats.Proportions(c.refCounts, nil)
	_, c.refStd = stats.MeanStd(c.refSorted)
	return c
}

// constantReference returns a notice text when the numeric reference holds a single value: the
// quantile binning then has two bins (below it, and from it up), and wasserstein_norm divides by the
// 0.001 floor of the standard deviation (DESIGN §5), so any spread in the current data reads as
// large drift.
func (c *driftCalc) constantReference(model string) (string, bool) {
	r := c.refSorted
	if c.spec.kind == source.Categorical || len(r) < 2 || r[0] != r[len(r)-1] {
		return "", false
	}
	return fmt.Sprintf("%s/%s: the reference is constant (%s): the bins are below it and from it up, and wasserstein_norm divides by 0.001",
		model, c.spec.name, strconv.FormatFloat(r[0], 'g', 6, 64)), true
}

// refSize is the number of non-null reference values of the variable.
func (c *driftCalc) refSize() int {
	if c.spec.kind == source.Categorical {
		n := 0.0
		for _, x := range c.refCatCnt {
			n += x
		}
		return int(n)
	}
	return len(c.refSorted)
}

// compute returns the drift values of the records idx of column col, and the number of non-null
// current values. Values are NaN when the current window or the reference has no values.
func (c *driftCalc) compute(col *source.Column, idx []int32) (values, int) {
	v := nanValues()
	if col == nil {
		return v, 0
	}
	if c.spec.kind == source.Categorical {
		return c.computeCat(col, idx, v)
	}
	cur := c.cur[:0]
	for _, k := range idx {
		if int(k) < len(col.Num) {
			if x := col.Num[k]; !math.IsNaN(x) {
				cur = append(cur, x)
			}
		}
	}
	c.cur = cur
	if len(cur) == 0 || len(c.refSorted) == 0 {
		return v, len(cur)
	}
	if !c.needsKS && !c.needsW {
		// Binned methods only: counting needs no order (O(n log bins) against a sort's O(n)
		// passes, and the same counts as CountsSorted).
		c.curCounts = stats.Counts(c.edges, cur, c.curCounts[:0])
	} else {
		if err := stats.SortFloat64sCheck(cur, c.check); err != nil {
			// Cancelled: the caller's window loop returns the context's error next.
			return v, 0
		}
		c.curCounts = stats.CountsSorted(c.edges, cur, c.curCounts[:0])
	}
	c.q = stats.Proportions(c.curCounts, c.q[:0])
	ks, w := math.NaN(), math.NaN()
	if c.needsKS && c.needsW {
		// Both from one merge of the two sorted samples.
		ks, w = stats.KSWasserstein(c.refSorted, cur)
	}
	for _, m := range c.spec.need {
		var x float64
		switch m {
		case MethodKS, MethodKSPValue:
			if ks != ks {
				ks = stats.KS(c.refSorted, cur)
			}
			x = ks
			if m == MethodKSPValue {
				x = stats.KSPValue(ks, len(c.refSorted), len(cur))
			}
		case MethodWasserstein, MethodWassersteinNorm:
			if w != w {
				w = stats.Wasserstein(c.refSorted, cur)
			}
			x = w
			if m == MethodWassersteinNorm {
				x = stats.WassersteinNormalize(w, c.refStd)
			}
		default:
			x = c.binned(m, c.p, c.q, c.refCounts, c.curCounts)
		}
		v[methodIndex[m]] = x
	}
	return v, len(cur)
}

// computeCat counts the window's categories over reference ∪ current (categories absent from
// both are dropped) and computes the binned methods.
func (c *driftCalc) computeCat(col *source.Column, idx []int32, v values) (values, int) {
	// Map the column's dictionary codes to bins: reference categories first, new ones after.
	if len(c.codeDict) != len(col.Dict) || (len(col.Dict) > 0 && &c.codeDict[0] != &col.Dict[0]) {
		c.codeDict = col.Dict
		c.codeMap = c.codeMap[:0]
		next := len(c.refCats)
		for _, s := range col.Dict {
			if i, ok := c.catIndex[s]; ok {
				c.codeMap = append(c.codeMap, i)
			} else {
				c.codeMap = append(c.codeMap, next)
				next++
			}
		}
	}
	nb := len(c.refCats)
	for _, b := range c.codeMap {
		nb = max(nb, b+1)
	}
	counts := slices.Grow(c.curCounts[:0], nb)[:nb]
	clear(counts)
	n := 0
	for _, k := range idx {
		if int(k) < len(col.Cat) {
			if code := col.Cat[k]; code >= 0 && int(code) < len(c.codeMap) {
				counts[c.codeMap[code]]++
				n++
			}
		}
	}
	c.curCounts = counts
	return c.catValues(counts, nb, n, v)
}

// catValues computes the binned methods from the window's counts over nb category bins
// (reference categories first); bins empty on both sides are dropped.
func (c *driftCalc) catValues(counts []float64, nb, n int, v values) (values, int) {
	if n == 0 || len(c.refCats) == 0 {
		return v, n
	}
	rc, cc := c.rc[:0], c.cc[:0]
	for i := 0; i < nb; i++ {
		r := 0.0
		if i < len(c.refCatCnt) {
			r = c.refCatCnt[i]
		}
		if r == 0 && counts[i] == 0 {
			continue
		}
		rc = append(rc, r)
		cc = append(cc, counts[i])
	}
	c.rc, c.cc = rc, cc
	p := stats.Proportions(rc, c.p[:0])
	c.p = p
	c.q = stats.Proportions(cc, c.q[:0])
	for _, m := range c.spec.need {
		v[methodIndex[m]] = c.binned(m, p, c.q, rc, cc)
	}
	return v, n
}

// binned computes a method on bin proportions p (reference), q (current) and their counts.
func (c *driftCalc) binned(m string, p, q, refCounts, curCounts []float64) float64 {
	switch m {
	case MethodPSI:
		return stats.PSI(p, q)
	case MethodJS:
		return stats.JensenShannon(p, q)
	case MethodHellinger:
		return stats.Hellinger(p, q)
	case MethodTVD:
		return stats.TVD(p, q)
	case MethodKLD:
		return stats.KLD(p, q)
	case MethodLInf:
		return stats.LInf(p, q)
	case MethodMLRun:
		return stats.MLRun(p, q)
	case MethodChi2, MethodChi2PValue:
		stat, pv, _ := stats.Chi2(refCounts, curCounts)
		if m == MethodChi2 {
			return stat
		}
		return pv
	}
	return math.NaN()
}

// describeMethods lists methods for messages.
func describeMethods(ms []string) string {
	if len(ms) == 0 {
		return "none"
	}
	return strings.Join(ms, ", ")
}

// featureKind returns the kind of a variable of a model: an input feature, or "prediction",
// "score" (and "latency" when allowLatency). Unknown names are a user error.
func featureKind(m *source.Model, name string, allowLatency bool) (source.Kind, error) {
	if f, ok := m.Feature(name); ok {
		return f.Type, nil
	}
	switch name {
	case FeaturePrediction:
		if m.Prediction.Type == "" {
			return source.Numeric, nil
		}
		return m.Prediction.Type, nil
	case FeatureScore:
		return source.Numeric, nil
	case FeatureLatency:
		if allowLatency {
			return source.Numeric, nil
		}
	}
	names := make([]string, 0, len(m.Features)+3)
	for _, f := range m.Features {
		names = append(names, f.Name)
	}
	names = append(names, FeaturePrediction, FeatureScore)
	if allowLatency {
		names = append(names, FeatureLatency)
	}
	return "", userError("model %q has no feature %q (known: %s)", m.Name, name, strings.Join(names, ", "))
}

// errNoValues is the notice text for a variable without values.
func errNoValues(model, feature, where string) string {
	return fmt.Sprintf("%s/%s: no values in the %s", model, feature, where)
}

// fromBinCounts computes the binned methods from a window's counts over the reference's bins
// (len(edges)+1 counts, DESIGN §5 bin rule), as compute does from the window's values: the
// push-down path, where the database counts (source.Aggregator.WindowBinCounts).
func (c *driftCalc) fromBinCounts(counts []float64) (values, int) {
	v := nanValues()
	n := 0.0
	for _, x := range counts {
		n += x
	}
	if n == 0 || len(c.refSorted) == 0 || len(counts) != len(c.refCounts) {
		return v, int(n)
	}
	c.curCounts = append(c.curCounts[:0], counts...)
	c.q = stats.Proportions(c.curCounts, c.q[:0])
	for _, m := range c.spec.need {
		v[methodIndex[m]] = c.binned(m, c.p, c.q, c.refCounts, c.curCounts)
	}
	return v, int(n)
}

// fromCategoryCounts computes the binned methods from a window's category counts (push-down), as
// computeCat does from the window's values: reference categories first, new ones after.
func (c *driftCalc) fromCategoryCounts(cats []string, counts []float64) (values, int) {
	nb := len(c.refCats)
	bins := slices.Grow(c.curCounts[:0], nb+len(cats))[:nb]
	clear(bins)
	n := 0
	for j, s := range cats {
		if j >= len(counts) || counts[j] == 0 {
			continue
		}
		if i, ok := c.catIndex[s]; ok {
			bins[i] += counts[j]
		} else {
			bins = append(bins, counts[j])
		}
		n += int(counts[j])
	}
	c.curCounts = bins
	return c.catValues(bins, len(bins), n, nanValues())
}

// binnedOnly reports whether every method a spec computes needs bin counts only (no raw samples).
func (s *featureSpec) binnedOnly() bool {
	for _, m := range s.need {
		if slices.Contains(numericOnly, m) {
			return false
		}
	}
	return true
}
