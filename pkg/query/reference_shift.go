package query

// References that change with each point (DESIGN §4 `reference`):
//
//   - offset: the point at t is compared with the records of the same window one offset earlier,
//     (t − offset − window, t − offset] — the same hour yesterday or last week — so that daily and
//     weekly cycles stop reading as drift. The records of the shifted range are fetched once
//     (capped by maxSamples, with a notice).
//   - version: the point at t of the query's version(s) is compared with another version's
//     records in the same window (t − window, t] — a canary or A/B version against the one it
//     replaces. Prediction and score drift then answer "does v2 behave like v1?".
//
// Each point's reference is prepared from that window's records only; a point whose reference
// window has fewer than minReferenceRows values has no drift (NaN), and a notice counts them.
// There is no per-window version fallback: with version "*", each version is compared with its
// own records one offset earlier, or with the reference version's.

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// validateReferenceFields rejects fields of `reference` that do not belong to its kind.
func validateReferenceFields(r *Reference) error {
	kind := r.Kind
	if kind == "" {
		kind = ReferenceDataset
	}
	if (r.From != "" || r.To != "") && kind != ReferenceWindow {
		return userError("reference.from and reference.to apply only to reference.kind %q", ReferenceWindow)
	}
	if r.Offset != "" && kind != ReferenceOffset {
		return userError("reference.offset applies only to reference.kind %q", ReferenceOffset)
	}
	if r.Version != "" && kind != ReferenceVersion {
		return userError("reference.version applies only to reference.kind %q", ReferenceVersion)
	}
	return nil
}

// shiftedKind reports whether a reference changes with each point (kinds offset and version).
func shiftedKind(r *Reference) bool {
	return r != nil && (r.Kind == ReferenceOffset || r.Kind == ReferenceVersion)
}

// validateShiftedReference checks reference kinds offset and version.
func validateShiftedReference(q *Query) error {
	r := q.Reference
	if q.QueryType != TypeDrift && q.QueryType != TypeDistribution {
		return userError("reference.kind %q applies to drift and distribution queries, not %s", r.Kind, q.QueryType)
	}
	if r.Kind == ReferenceOffset {
		_, err := referenceOffset(r)
		return err
	}
	v := strings.TrimSpace(r.Version)
	if v == "" {
		return userError("reference.kind %q needs reference.version: the version to compare with (e.g. v1)", ReferenceVersion)
	}
	if v == WildcardAllVersions {
		return userError("reference.version must name one version, not %q", WildcardAllVersions)
	}
	if q.Version == r.Version {
		return userError("reference.version %s is the query's version: a version compared with itself has no drift; set version to the other version (or * for each)", quoteName(v))
	}
	return nil
}

// referenceOffset parses reference.offset: a positive duration.
func referenceOffset(r *Reference) (time.Duration, error) {
	if r.Offset == "" {
		return 0, userError("reference.kind %q needs reference.offset: a duration such as 1d or 7d (the same window that long ago)", ReferenceOffset)
	}
	d, err := parseDuration(r.Offset)
	if strings.HasPrefix(strings.TrimSpace(r.Offset), "-") {
		d, err = 0, nil // "-1d": reported as not positive below
	}
	if err != nil {
		return 0, userError("reference.offset %s is not a duration like 1h, 1d or 7d", quoteName(r.Offset))
	}
	if d <= 0 {
		return 0, userError("reference.offset %s must be a positive duration (the reference lies that long before each point)", quoteName(r.Offset))
	}
	return d, nil
}

// shiftedRef is the reference of one version group whose reference changes with each point:
// the records idx of b (ascending time), and per grid point the positions [lo, hi) of idx in
// that point's reference window.
type shiftedRef struct {
	b      *source.Batch
	idx    []int32
	lo, hi []int
}

// at returns the reference of grid point i (never nil; it may have no rows).
func (s *shiftedRef) at(i int) refSample {
	var idx []int32
	if i < len(s.lo) {
		idx = s.idx[s.lo[i]:s.hi[i]]
	}
	return &recordsRef{b: s.b, idx: idx}
}

// shiftedReferences resolves reference kinds offset and version for one model: the reference
// records are fetched once over the grid's whole range (shifted by the offset, or of the reference
// version), split per version group of the query, and windowed like the current records.
func (h *Handler) shiftedReferences(ctx context.Context, src Resolved, r *request, g grid, m *source.Model, cur *source.Batch, nModels int) (map[string]*shiftedRef, []data.Notice, error) {
	q := &r.q
	ref := q.Reference
	start, end := g.fetchRange()
	shift := time.Duration(0)
	var req source.RecordsRequest
	var what string
	switch ref.Kind {
	case ReferenceOffset:
		d, err := referenceOffset(ref)
		if err != nil {
			return nil, nil, err
		}
		if start.UnixNano() < math.MinInt64+int64(d) {
			return nil, nil, userError("reference.offset %s reaches before %s, the earliest supported time (the range starts %s)",
				quoteName(ref.Offset), minTime.Format(time.RFC3339), start.UTC().Format(time.RFC3339))
		}
		shift = d
		v := q.Version
		if v == WildcardAllVersions {
			v = ""
		}
		req = source.RecordsRequest{Model: m.Name, Version: v, Start: start.Add(-d), End: end.Add(-d)}
		what = fmt.Sprintf("the same window %s earlier", ref.Offset)
	case ReferenceVersion:
		if len(m.Versions) > 0 && !m.HasVersion(ref.Version) {
			return nil, nil, userError("reference.version: model %q has no version %s (versions: %v)", m.Name, quoteName(ref.Version), m.Versions)
		}
		req = source.RecordsRequest{Model: m.Name, Version: ref.Version, Start: start, End: end}
		what = fmt.Sprintf("version %s in the same window", ref.Version)
	default:
		return nil, nil, fmt.Errorf("shiftedReferences: reference kind %q", ref.Kind)
	}
	req.Limit = perModelLimit(h.deps.MaxSamples, nModels)
	b, err := src.Log.Records(ctx, req)
	if err != nil {
		return nil, nil, sourceError(src.Name, err)
	}
	if b == nil {
		b = &source.Batch{Model: m.Name}
	}
	if req.Version != "" {
		// A source that ignores the version answers every version's records.
		b = ownVersion(b, req.Version)
	}
	var notices []data.Notice
	if b.Truncated {
		notices = append(notices, frames.WarningNotice(truncatedText(m.Name, " of the reference ("+what+")", b, req.Start)))
	}
	// The reference records of each version group of the query.
	byVersion := map[string][]int32{}
	switch {
	case ref.Kind == ReferenceVersion || q.Version != WildcardAllVersions:
		all := groups(b, "")[0].idx
		for _, grp := range groups(cur, q.Version) {
			byVersion[grp.version] = all
		}
	default:
		for _, grp := range groups(b, WildcardAllVersions) {
			byVersion[grp.version] = grp.idx
		}
	}
	// The reference window of each point: the grid's windows, shifted.
	sg := g
	sg.times = make([]time.Time, len(g.times))
	for i, t := range g.times {
		sg.times[i] = t.Add(-shift)
	}
	out := map[string]*shiftedRef{}
	short := 0
	for _, grp := range groups(cur, q.Version) {
		s := &shiftedRef{b: b, idx: byVersion[grp.version], lo: make([]int, len(sg.times)), hi: make([]int, len(sg.times))}
		if err := sg.windows(ctx, b.TS, s.idx, func(i int, _ time.Time, lo, hi int) {
			s.lo[i], s.hi[i] = lo, hi
			if hi-lo < minReferenceRows {
				short++
			}
		}); err != nil {
			return nil, nil, err
		}
		out[grp.version] = s
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("reference: model %s%s, %s, %d records from %s to %s",
			m.Name, versionSuffix(grp.version), what, len(s.idx), req.Start.UTC().Format(time.RFC3339), req.End.UTC().Format(time.RFC3339))))
	}
	if short > 0 {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("%s: %d point(s) have fewer than %d reference records (%s): drift is not defined there",
			m.Name, short, minReferenceRows, what)))
	}
	return out, notices, nil
}

// recordsRef is a reference prepared from some records of a batch, one variable at a time and
// only when asked (a shifted reference is used for one window and dropped). Not safe for
// concurrent use.
type recordsRef struct {
	b      *source.Batch
	idx    []int32
	sorted map[string][]float64
}

var _ refSample = (*recordsRef)(nil)

func (r *recordsRef) Rows() int { return len(r.idx) }

func (r *recordsRef) Sorted(variable string) []float64 {
	if s, ok := r.sorted[variable]; ok {
		return s
	}
	c := r.b.Column(variable)
	var out []float64
	if c != nil && c.Kind != source.Categorical {
		out = make([]float64, 0, len(r.idx))
		for _, k := range r.idx {
			if int(k) < len(c.Num) && !math.IsNaN(c.Num[k]) {
				out = append(out, c.Num[k])
			}
		}
		stats.SortFloat64s(out)
	}
	if r.sorted == nil {
		r.sorted = map[string][]float64{}
	}
	r.sorted[variable] = out
	return out
}

func (r *recordsRef) Categories(variable string) ([]string, []float64) {
	c := r.b.Column(variable)
	if c == nil || c.Kind != source.Categorical {
		return nil, nil
	}
	n := make([]float64, len(c.Dict))
	for _, k := range r.idx {
		if int(k) < len(c.Cat) {
			if code := c.Cat[k]; code >= 0 && int(code) < len(n) {
				n[code]++
			}
		}
	}
	var cats []string
	var counts []float64
	order := make([]int, 0, len(n))
	for i, k := range n {
		if k > 0 {
			order = append(order, i)
		}
	}
	sort.Slice(order, func(a, b int) bool { return c.Dict[order[a]] < c.Dict[order[b]] })
	for _, i := range order {
		cats = append(cats, c.Dict[i])
		counts = append(counts, n[i])
	}
	return cats, counts
}

func (r *recordsRef) Binned(variable, strategy string, bins int) ([]float64, []float64) {
	sorted := r.Sorted(variable)
	if sorted == nil {
		return nil, nil
	}
	f := stats.QuantileEdges
	if strategy == refstats.StrategyEqualWidth {
		f = stats.EqualWidthEdges
	}
	e := f(sorted, bins)
	return e, stats.CountsSorted(e, sorted, nil)
}

// refAt returns the reference of a version group at grid point i (nil: none).
func (dm *driftModel) refAt(version string, i int) refSample {
	if s := dm.shifts[version]; s != nil {
		return s.at(i)
	}
	if ref, ok := dm.refs[version]; ok && ref != nil {
		return ref
	}
	return nil
}

// hasRef reports whether a version group has a reference.
func (dm *driftModel) hasRef(version string) bool {
	return dm.shifts[version] != nil || dm.refs[version] != nil
}

// calcs gives the drift calculator of each point of one variable and version group: one for a
// reference that is the same at every point (its notices said once), or one per point for a
// shifted reference.
type calcs struct {
	fixed *driftCalc
	shift *shiftedRef
	spec  *featureSpec
	// strategy and bins select the binning; check stops long sorts.
	strategy string
	bins     int
	check    stats.Check
}

// newCalcs prepares the calculators of one variable of a version group; notices about a fixed
// reference go to info.
func newCalcs(ctx context.Context, dm *driftModel, version string, spec *featureSpec, strategy string, bins int, info *frames.Info) *calcs {
	cs := &calcs{shift: dm.shifts[version], spec: spec, strategy: strategy, bins: bins, check: ctx.Err}
	if cs.shift != nil {
		return cs
	}
	ref := dm.refs[version]
	cs.fixed = newDriftCalc(spec, ref, strategy, bins)
	cs.fixed.check = ctx.Err
	if cs.fixed.refSize() == 0 {
		info.Notices = append(info.Notices, frames.WarningNotice(errNoValues(dm.model.Name, spec.name, "reference")))
	}
	if text, ok := cs.fixed.constantReference(dm.model.Name); ok {
		info.Notices = append(info.Notices, frames.InfoNotice(text))
	}
	return cs
}

// at returns the calculator of grid point i.
func (cs *calcs) at(i int) *driftCalc {
	if cs.fixed != nil {
		return cs.fixed
	}
	c := newDriftCalc(cs.spec, cs.shift.at(i), cs.strategy, cs.bins)
	c.check = cs.check
	return c
}
