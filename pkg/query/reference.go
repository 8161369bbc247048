package query

// Reference resolution, in one place (DESIGN §4 `reference`, §10): what drift, distribution and
// the endpoints table compare current data with — the model's reference sample (`dataset`, the
// default) or the records of a reference window (`window`) — and the per-version fallback policy,
// which every path (named version, `*`, none; records and Prometheus histograms) takes here:
//
//   - the version's own reference when it has at least minReferenceRows rows;
//   - else the model's pooled reference (all versions) when it has that many, with a warning
//     notice naming the fallback;
//   - else a clear error.
//
// A source that has no sample of its own for a version — a 404, an empty answer, or rows of
// other versions only (which are ignored) — leads to the same decision.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// minReferenceRows is the smallest reference a drift or distribution query accepts.
const minReferenceRows = 2

// ReferenceCache keeps prepared reference samples between queries (*refstats.Cache).
type ReferenceCache interface {
	Get(ctx context.Context, key string, fetch func(ctx context.Context) (*source.Batch, error)) (*refstats.Prepared, error)
}

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

// candidate is one reference a decision can take: its sample (nil when the source has none) and
// what it is, for notices and errors.
type candidate struct {
	ref  refSample
	what string
	// sampledFrom is the source's row count when ref is a uniform sample of it (0: complete).
	sampledFrom int64
	// used says, for the notice, which reference a comparison used.
	used func(model, version string, rows int) string
}

func (c candidate) rows() int {
	if c.ref == nil {
		return 0
	}
	return c.ref.Rows()
}

// chooseReference is the version-fallback policy. version is "" when the query does not split by
// version (then only pooled is asked). own and pooled fetch the candidates; an error of theirs that
// means "no such reference" (source.ErrNoReference, source.ErrUnknownModel for a version the
// source does not know) counts as an empty candidate, any other error is returned.
func chooseReference(model, version string, own, pooled func() (candidate, error)) (refSample, []data.Notice, error) {
	var notices []data.Notice
	var mine candidate
	if version != "" {
		var err error
		if mine, err = own(); err != nil && !absent(err) {
			return nil, nil, err
		}
		if mine.rows() >= minReferenceRows {
			return mine.ref, append(notices, usedNotices(model, version, mine)...), nil
		}
	}
	all, err := pooled()
	if err != nil && !absent(err) {
		return nil, nil, err
	}
	if all.rows() < minReferenceRows {
		if version == "" {
			return nil, nil, userError("%s of model %q has %d rows; drift needs at least %d: %w",
				all.what, model, all.rows(), minReferenceRows, source.ErrNoReference)
		}
		return nil, nil, userError("%s of model %q has %d rows, and that of all its versions %d; drift needs at least %d: %w",
			mine.what, model, mine.rows(), all.rows(), minReferenceRows, source.ErrNoReference)
	}
	if version != "" {
		notices = append(notices, frames.WarningNotice(fmt.Sprintf("model %s has no reference sample for version %s: compared with the reference of all its versions (%s of version %s has %d rows)",
			model, version, all.what, version, mine.rows())))
	}
	return all.ref, append(notices, usedNotices(model, "", all)...), nil
}

// absent tells the errors that mean "the source has no such reference".
func absent(err error) bool {
	return errors.Is(err, source.ErrNoReference) || errors.Is(err, source.ErrUnknownModel)
}

// usedNotices say which reference a comparison used and, when it is a sample, of how many rows.
func usedNotices(model, version string, c candidate) []data.Notice {
	out := []data.Notice{frames.InfoNotice(c.used(model, version, c.rows()))}
	if c.sampledFrom > int64(c.rows()) {
		out = append(out, frames.InfoNotice(fmt.Sprintf("reference of model %s%s: a deterministic uniform sample of %d of its %d rows (maxReferenceSamples)",
			model, versionSuffix(version), c.rows(), c.sampledFrom)))
	}
	return out
}

func versionSuffix(v string) string {
	if v == "" {
		return ""
	}
	return " version " + v
}

// references returns a model's reference per version group of the query (the groups of cur for
// `*`), from its reference sample or its reference window.
func (h *Handler) references(ctx context.Context, src Resolved, r *request, m *source.Model, cur *source.Batch) (map[string]refSample, []data.Notice, error) {
	q := &r.q
	var versions []string
	switch q.Version {
	case "":
		versions = []string{""}
	case WildcardAllVersions:
		for _, grp := range groups(cur, q.Version) {
			versions = append(versions, grp.version)
		}
	default:
		versions = []string{q.Version}
	}
	if q.Reference != nil && q.Reference.Kind == ReferenceWindow {
		return h.windowReferences(ctx, src, r, m, versions)
	}
	if shiftedKind(q.Reference) {
		return nil, nil, userError("reference.kind %q applies to drift and distribution queries", q.Reference.Kind)
	}
	refs := map[string]refSample{}
	var notices []data.Notice
	for _, ver := range versions {
		ref, rn, err := h.sampleFor(ctx, src, m.Name, ver, nil)
		if err != nil {
			return nil, nil, err
		}
		refs[ver] = ref
		notices = append(notices, rn...)
	}
	return refs, notices, nil
}

// sampleFor resolves the reference sample of a model's version ("" for all versions) in a source
// that has one, under the policy; used writes the notice saying which was used (nil: datasetUsed).
func (h *Handler) sampleFor(ctx context.Context, src Resolved, model, version string, used func(model, version string, rows int) string) (refSample, []data.Notice, error) {
	if used == nil {
		used = datasetUsed
	}
	fetch := func(v string) func() (candidate, error) {
		return func() (candidate, error) {
			what := "the reference sample"
			p, err := h.datasetReference(ctx, src, model, v)
			if err != nil {
				return candidate{what: what}, err
			}
			return candidate{ref: p, what: what, sampledFrom: p.Batch.SampledFrom, used: used}, nil
		}
	}
	return chooseReference(model, version, fetch(version), fetch(""))
}

func datasetUsed(model, version string, rows int) string {
	return fmt.Sprintf("reference: dataset of model %s%s, %d rows", model, versionSuffix(version), rows)
}

// datasetReference returns the prepared reference sample of a model (version "" for all
// versions), through the reference cache keyed by source, model and version. Records of other
// versions than the one asked are dropped (a source that ignores the version answers them), and a
// sample above maxReferenceSamples rows is reduced to a deterministic uniform sample.
func (h *Handler) datasetReference(ctx context.Context, src Resolved, model, version string) (*refstats.Prepared, error) {
	fetch := func(ctx context.Context) (*source.Batch, error) {
		b, err := src.Log.Reference(ctx, model, version)
		if err != nil {
			return nil, sourceError(src.Name, err)
		}
		if b == nil {
			b = &source.Batch{Model: model}
		}
		if version != "" {
			b = ownVersion(b, version)
		}
		return capReference(b, h.maxReferenceSamples()), nil
	}
	if h.deps.References == nil {
		b, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		return refstats.NewPrepared(model, version, b, nil), nil
	}
	p, err := h.deps.References.Get(ctx, src.Name+"\x00"+refstats.Key(model, version), fetch)
	if err != nil {
		return nil, sourceError(src.Name, err)
	}
	return p, nil
}

func (h *Handler) maxReferenceSamples() int {
	if h.deps.MaxReferenceSamples > 0 {
		return h.deps.MaxReferenceSamples
	}
	return limits.DefaultMaxReferenceSamples
}

// ownVersion keeps the records of b that belong to version (or carry none).
func ownVersion(b *source.Batch, version string) *source.Batch {
	other := false
	for _, v := range b.Versions {
		if v != "" && v != version {
			other = true
		}
	}
	if !other {
		return b
	}
	idx := make([]int32, 0, b.Len())
	for i := 0; i < b.Len(); i++ {
		if v := versionOf(b, i); v == "" || v == version {
			idx = append(idx, int32(i))
		}
	}
	out := subBatch(b, idx)
	out.SampledFrom = 0
	return out
}

func versionOf(b *source.Batch, i int) string {
	if i < len(b.Version) {
		if c := b.Version[i]; c >= 0 && int(c) < len(b.Versions) {
			return b.Versions[c]
		}
	}
	return ""
}

// capReference reduces a reference above max rows to a deterministic uniform sample of max rows
// (the source.Reservoir a streaming connector uses, so both give the same sample of one stream).
func capReference(b *source.Batch, max int) *source.Batch {
	if b.Len() <= max {
		return b
	}
	res := source.NewReservoir(max)
	slots := make([]int32, 0, max)
	for i := 0; i < b.Len(); i++ {
		switch s := res.Next(); {
		case s < 0:
		case s == len(slots):
			slots = append(slots, int32(i))
		default:
			slots[s] = int32(i)
		}
	}
	out := subBatch(b, slots)
	out.SampledFrom = int64(b.Len())
	if b.SampledFrom > out.SampledFrom {
		out.SampledFrom = b.SampledFrom
	}
	return out
}

// windowReferences compares each version group with the records of the reference window: all
// versions' records are fetched once, and each version takes its own share under the policy.
func (h *Handler) windowReferences(ctx context.Context, src Resolved, r *request, m *source.Model, versions []string) (map[string]refSample, []data.Notice, error) {
	q := &r.q
	from, to, err := referenceWindow(q.Reference, r.dq.TimeRange.To)
	if err != nil {
		return nil, nil, err
	}
	b, err := src.Log.Records(ctx, source.RecordsRequest{Model: m.Name, Start: from, End: to, Limit: h.deps.MaxSamples})
	if err != nil {
		return nil, nil, sourceError(src.Name, err)
	}
	if b == nil {
		b = &source.Batch{Model: m.Name}
	}
	f, t := from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339)
	span := fmt.Sprintf("the reference window %s – %s", f, t)
	used := func(model, version string, rows int) string {
		return fmt.Sprintf("reference: model %s%s, window %s – %s, %d records", model, versionSuffix(version), f, t, rows)
	}
	byVersion := map[string]group{}
	for _, grp := range groups(b, WildcardAllVersions) {
		byVersion[grp.version] = grp
	}
	refs := map[string]refSample{}
	var notices []data.Notice
	for _, ver := range versions {
		own := func() (candidate, error) {
			grp := byVersion[ver]
			return candidate{ref: prepareRecords(m.Name, ver, b, grp.idx), what: span, used: used}, nil
		}
		pooled := func() (candidate, error) {
			return candidate{ref: prepareRecords(m.Name, "", b, groups(b, "")[0].idx), what: span, used: used}, nil
		}
		ref, rn, err := chooseReference(m.Name, ver, own, pooled)
		if err != nil {
			return nil, nil, err
		}
		refs[ver] = ref
		notices = append(notices, rn...)
	}
	if b.Truncated {
		notices = append(notices, frames.WarningNotice(truncatedText(m.Name, " of the reference window", b, from)))
	}
	return refs, notices, nil
}

// sampleReference returns the reference sample of a model for a version of Prometheus
// histograms ("" when the query does not split by version), from the prediction log or the demo
// fleet, under the policy.
func (h *Handler) sampleReference(ctx context.Context, q *Query, model, version string) (refSample, []data.Notice, error) {
	rs, err := h.sampleSource(ctx, q, model)
	if err != nil {
		return nil, nil, err
	}
	used := func(model, version string, rows int) string {
		return fmt.Sprintf("reference: dataset of model %s%s (%s), %d rows, counted on the histogram buckets", model, versionSuffix(version), rs.Name, rows)
	}
	ref, notices, err := h.sampleFor(ctx, rs, model, version, used)
	var bad *BadQueryError
	if err != nil && errors.As(err, &bad) && errors.Is(err, source.ErrNoReference) {
		return nil, nil, noReferenceSample(q, fmt.Sprintf("in the %s %v", rs.Name, err))
	}
	return ref, notices, err
}

// noReferenceSample is the error for a dataset reference that no source has.
func noReferenceSample(q *Query, why string) error {
	return userError("with Prometheus, %s compares feature histograms with the model's reference sample (from the prediction log or the demo fleet) or with a reference window, but %s: set reference.kind to %q with reference.from and reference.to (e.g. now-7d, now-6d)",
		q.QueryType, why, ReferenceWindow)
}

// sampleSource picks where a model's reference sample comes from: the prediction log when it is
// configured and knows the model, else the demo fleet when it is on and knows the model.
func (h *Handler) sampleSource(ctx context.Context, q *Query, model string) (Resolved, error) {
	var firstErr error
	for _, name := range []string{SourcePredictionLog, SourceSQL, SourceDemo} {
		if !h.cat.configured(name) {
			continue
		}
		rs := h.cat.byName(name)
		models, err := h.cat.Models(ctx, rs)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		if findModel(models, model) != nil {
			return usedDemo(ctx, rs), nil
		}
	}
	if firstErr != nil {
		return Resolved{}, firstErr
	}
	return Resolved{}, noReferenceSample(q, fmt.Sprintf("no configured prediction log or demo fleet knows model %q", model))
}

// prepareRecords prepares the records idx of b as a reference (not cached).
func prepareRecords(model, version string, b *source.Batch, idx []int32) *refstats.Prepared {
	if len(idx) != b.Len() {
		b = subBatch(b, idx)
	}
	return refstats.NewPrepared(model, version, b, nil)
}

// subBatch copies the records idx of b into a new batch (a version's share of a reference
// window, a sample of a reference).
func subBatch(b *source.Batch, idx []int32) *source.Batch {
	out := &source.Batch{Model: b.Model, Versions: b.Versions, FeatureNames: b.FeatureNames,
		Features: make(map[string]*source.Column, len(b.Features)), Truncated: b.Truncated, SampledFrom: b.SampledFrom}
	n := len(idx)
	out.TS = make([]int64, 0, n)
	out.Version = make([]int32, 0, n)
	out.LatencyMs = make([]float64, 0, n)
	out.Error = make([]bool, 0, n)
	out.Score = make([]float64, 0, n)
	if b.LabelTS != nil {
		out.LabelTS = make([]int64, 0, n)
	}
	for _, k := range idx {
		out.TS = append(out.TS, b.TS[k])
		out.Version = append(out.Version, at(b.Version, k, -1))
		out.LatencyMs = append(out.LatencyMs, at(b.LatencyMs, k, nanValue))
		out.Error = append(out.Error, at(b.Error, k, false))
		out.Score = append(out.Score, at(b.Score, k, nanValue))
		if b.LabelTS != nil {
			out.LabelTS = append(out.LabelTS, at(b.LabelTS, k, source.NoTime))
		}
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
	if c.Mismatch != nil {
		out.Mismatch = make([]bool, 0, len(idx))
		for _, k := range idx {
			out.Mismatch = append(out.Mismatch, at(c.Mismatch, k, false))
		}
	}
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
