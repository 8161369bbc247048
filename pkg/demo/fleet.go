package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// DefaultSeed is the seed of the fleet the plugin embeds and the demo model server serves by
// default; both produce identical records for the same seed and rate.
const DefaultSeed int64 = 42

// MaxRate bounds the traffic multiplier of NewFleetWithRate.
const MaxRate = 100

// MaxUnlimitedRecords bounds the expected size of a Records answer without a Limit; larger ranges
// must set RecordsRequest.Limit.
const MaxUnlimitedRecords = 5_000_000

// Random-stream purposes.
const (
	streamCount = iota + 1
	streamMinute
	streamRecord
	streamReference
)

// Fleet is the synthetic fleet: prediction records that are a pure function of (seed, model, time).
// It implements source.PredictionLog and is safe for concurrent use.
type Fleet struct {
	seed   uint64
	seed64 int64
	rate   float64
	byName map[string]*modelSpec
	// rawLabels leaves out the label events (label times, the fraud pattern): the fleet as it was
	// before them, for the test that proves they change nothing else.
	rawLabels bool
}

var _ source.PredictionLog = (*Fleet)(nil)

// NewFleet returns the fleet of the given seed at the nominal traffic rate.
func NewFleet(seed int64) *Fleet {
	f, err := NewFleetWithRate(seed, 1)
	if err != nil {
		panic(err) // unreachable: rate 1 is valid
	}
	return f
}

// NewFleetWithRate returns the fleet of the given seed with every model's traffic multiplied by
// rate (0 < rate <= MaxRate). Feature, prediction and reference distributions do not depend on rate.
func NewFleetWithRate(seed int64, rate float64) (*Fleet, error) {
	if !(rate > 0 && rate <= MaxRate) {
		return nil, fmt.Errorf("demo: traffic rate must be in (0, %d], got %v", MaxRate, rate)
	}
	f := &Fleet{seed: word(seed), seed64: seed, rate: rate, byName: map[string]*modelSpec{}}
	for _, m := range specs {
		f.byName[m.name] = m
	}
	return f, nil
}

// Seed returns the fleet's seed.
func (f *Fleet) Seed() int64 { return f.seed64 }

// Rate returns the fleet's traffic multiplier.
func (f *Fleet) Rate() float64 { return f.rate }

// Models lists the fleet's models (source.PredictionLog).
func (f *Fleet) Models(ctx context.Context) ([]source.Model, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	out := make([]source.Model, len(specs))
	for i, m := range specs {
		out[i] = m.meta()
	}
	return out, nil
}

// lookup resolves a model and version ("" = every version, index -1).
func (f *Fleet) lookup(model, version string) (*modelSpec, int32, error) {
	m, ok := f.byName[model]
	if !ok {
		names := make([]string, len(specs))
		for i, s := range specs {
			names[i] = s.name
		}
		return nil, -1, fmt.Errorf("%w: %q (the demo fleet has %s)", source.ErrUnknownModel, model, strings.Join(names, ", "))
	}
	if version == "" {
		return m, -1, nil
	}
	v := m.versionIndex(version)
	if v < 0 {
		return nil, -1, fmt.Errorf("%w: model %q has no version %q (versions: %s)", source.ErrUnknownModel, model, version,
			strings.Join(m.versions, ", "))
	}
	return m, v, nil
}

// Ready reports whether the model is ready (serving) at the given time: false during its Outages
// and for unknown models.
func (f *Fleet) Ready(model string, at time.Time) bool {
	m, ok := f.byName[model]
	if !ok {
		return false
	}
	ns := at.UnixNano()
	for i := range outages {
		if outages[i].Model == m.name && outages[i].containsNano(ns) {
			return false
		}
	}
	return true
}

// Time bounds of generated records: nothing before the Unix epoch, nothing after 2200 (Unix
// nanoseconds stay far from overflow).
var (
	minTime = time.Unix(0, 0)
	maxTime = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
)

func clampNano(t time.Time) int64 {
	if t.Before(minTime) {
		return 0
	}
	if t.After(maxTime) {
		return maxTime.UnixNano()
	}
	return t.UnixNano()
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// errStop ends a generation early without error.
var errStop = errors.New("stop")

// generate calls fn for every record of m (version -1 = all) with start < ts <= end (Unix ns),
// ascending. The traffic of second s is Poisson with the rate of that second; record i of the
// second gets time s + (i+u)/n seconds, so records are ascending within and across seconds and
// each record's random stream depends only on (seed, model, s, i).
func (f *Fleet) generate(ctx context.Context, m *modelSpec, version int32, start, end int64, x *row, fn func(*row) error) error {
	if end <= start {
		return nil
	}
	first, last := floorDiv(start, 1e9), floorDiv(end, 1e9)
	var sc secondCounter
	for s := first; s <= last; s++ {
		if (s-first)&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		n, load := sc.count(f, m, s)
		base := s * 1e9
		if n > 0 {
			// Event windows start and end on whole seconds, so the error ratio is constant
			// within a second.
			for v := range m.versions {
				x.errP[v] = errorRatio(m, int32(v), base)
			}
		}
		for i := 0; i < n; i++ {
			r := &x.r
			ts, v := f.recordHead(r, m, s, i, n)
			if ts <= start {
				continue
			}
			if ts > end {
				return nil
			}
			if version >= 0 && v != version {
				continue
			}
			fillRecord(m, r, x, ts, v, load)
			if !f.rawLabels {
				f.labelEvents(m, x, s, i)
			}
			f.applyQuality(m, x, s, i)
			if err := fn(x); err != nil {
				if err == errStop {
					return nil
				}
				return err
			}
		}
	}
	return nil
}

// secondCounter draws the number of records of each second (Poisson with the diurnal rate times
// the minute's noise factor), caching the minute's factor between calls.
type secondCounter struct {
	minute       int64
	minuteFactor float64
	valid        bool
}

// count returns the number of records of m in second s and the second's diurnal load.
func (c *secondCounter) count(f *Fleet, m *modelSpec, s int64) (int, float64) {
	if mn := floorDiv(s, 60); !c.valid || mn != c.minute {
		c.minute, c.valid = mn, true
		mr := newRNG(key(f.seed, m.id, streamMinute, word(mn)))
		c.minuteFactor = math.Exp(MinuteNoise*mr.norm() - MinuteNoise*MinuteNoise/2)
	}
	peak := float64(m.peak) / 1e9
	tod := float64(timeOfDay(s*1e9)) / 1e9
	load := math.Cos(2 * math.Pi * (tod - peak) / 86400)
	lambda := m.baseRate * f.rate * (1 + DiurnalAmplitude*load) * c.minuteFactor
	cr := newRNG(key(f.seed, m.id, streamCount, word(s)))
	return cr.poisson(lambda), load
}

// recordHead seeds r with the stream of record i of the n records of second s and draws its
// time and version (the rest of the record follows from r).
func (f *Fleet) recordHead(r *rng, m *modelSpec, s int64, i, n int) (int64, int32) {
	r.reset(key(f.seed, m.id, streamRecord, word(s), word(int64(i))))
	ts := s*1e9 + int64((float64(i)+r.float())/float64(n)*1e9)
	return ts, r.choice(m.shareCum)
}

// newestCut counts the records of m (version -1 = all) with start < ts <= end from the newest
// backwards, drawing only their counts, times and versions. It returns how many there are, at
// most limit, the time of the oldest of the newest limit records, and whether older ones exist.
func (f *Fleet) newestCut(ctx context.Context, m *modelSpec, version int32, start, end int64, limit int) (n int, cut int64, more bool, err error) {
	if end <= start {
		return 0, 0, false, nil
	}
	first, last := floorDiv(start, 1e9), floorDiv(end, 1e9)
	var sc secondCounter
	var r rng
	for s := last; s >= first; s-- {
		if (last-s)&1023 == 0 {
			if err := ctx.Err(); err != nil {
				return 0, 0, false, err
			}
		}
		k, _ := sc.count(f, m, s)
		if k == 0 {
			continue
		}
		if s != first && s != last && version < 0 && n+k < limit {
			n += k
			continue
		}
		for i := k - 1; i >= 0; i-- {
			ts, v := f.recordHead(&r, m, s, i, k)
			if ts <= start || ts > end || (version >= 0 && v != version) {
				continue
			}
			if n == limit {
				return n, cut, true, nil
			}
			n++
			cut = ts
		}
	}
	return n, cut, false, nil
}

// fillRecord draws one live record's features, status, latency, outputs and label.
func fillRecord(m *modelSpec, r *rng, x *row, ts int64, v int32, load float64) {
	x.ts, x.version = ts, v
	x.corrBreak = corrBreak(ts)
	m.sample(r, timeOfDay(ts) >= int64(DriftStart), x)
	x.err = r.float() < x.errP[v]
	var lat float64
	if x.err {
		if r.float() < 0.3 {
			lat = 1000 + 500*r.float() // upstream timeout
		} else {
			lat = r.lognormal(math.Log(3), 0.4) // fast failure
		}
	} else {
		med := m.latencyMedian[v]
		lat = r.lognormal(m.logMedian[v], 0.35) * (1 + 0.15*load)
		if r.float() < 0.02 {
			lat += r.pareto(3*med, 1.5) // heavy tail
		}
	}
	x.latency = roundTo(math.Min(lat, 30000), 3)
	x.predNum, x.predCat, x.score = math.NaN(), -1, math.NaN()
	x.labelNum, x.labelCat, x.labelTS = math.NaN(), -1, source.NoTime
	if x.err {
		return
	}
	x.predNum, x.predCat, x.score = m.predict(v, x.num, x.cat)
	if r.float() < m.labelShare {
		x.labelNum, x.labelCat = m.label(r, x.num, x.cat)
	}
}

// referenceRows calls fn for each row of the reference sample of m (version -1 = the pooled
// sample, versions drawn with the traffic split).
func (f *Fleet) referenceRows(m *modelSpec, version int32, x *row, fn func(*row)) {
	t0 := ReferenceTime.UnixNano()
	for i := 0; i < ReferenceSize; i++ {
		r := &x.r
		r.reset(key(f.seed, m.id, streamReference, word(int64(version)+1), uint64(i)))
		v := r.choice(m.shareCum)
		if version >= 0 {
			v = version
		}
		x.ts, x.version = t0+int64(i)*1e9, v
		x.corrBreak = false
		m.sample(r, false, x)
		x.err = false
		x.latency = math.NaN()
		x.predNum, x.predCat, x.score = m.predict(v, x.num, x.cat)
		x.labelNum, x.labelCat = m.label(r, x.num, x.cat)
		x.labelTS = source.NoTime
		fn(x)
	}
}

// expected returns the expected number of records of m (all versions) with start < ts <= end:
// the integral of the diurnal rate (the minute noise has mean 1).
func (f *Fleet) expected(m *modelSpec, start, end int64) float64 {
	if end <= start {
		return 0
	}
	const w = 2 * math.Pi / 86400
	peak := float64(m.peak) / 1e9
	t0 := float64(timeOfDay(start)) / 1e9
	t1 := t0 + float64(end-start)/1e9
	integral := (t1 - t0) + DiurnalAmplitude/w*(math.Sin(w*(t1-peak))-math.Sin(w*(t0-peak)))
	return m.baseRate * f.rate * integral
}

// projection is which outputs and features a batch carries (source.RecordsRequest.Variables).
type projection struct {
	prediction, label bool
	// features[i] tells whether m.features[i] is carried.
	features []bool
}

// project returns the projection of variables over m: nil variables carry everything.
func project(m *modelSpec, variables []string) projection {
	has := func(name string) bool { return variables == nil || slices.Contains(variables, name) }
	p := projection{prediction: has("prediction"), label: has("label"), features: make([]bool, len(m.features))}
	for i, fs := range m.features {
		p.features[i] = has(fs.name)
	}
	return p
}

// allOf carries every output and feature of m.
func allOf(m *modelSpec) projection { return project(m, nil) }

// newBatch returns an empty batch of m with room for n records; outputs left out by p stay empty
// columns, features left out by p are absent.
func newBatch(m *modelSpec, versions []string, n int, p projection) *source.Batch {
	cap := func(keep bool) int {
		if keep {
			return n
		}
		return 0
	}
	b := &source.Batch{
		Model:        m.name,
		TS:           make([]int64, 0, n),
		Version:      make([]int32, 0, n),
		Versions:     versions,
		LatencyMs:    make([]float64, 0, n),
		Error:        make([]bool, 0, n),
		Score:        make([]float64, 0, n),
		Prediction:   source.NewColumn(m.predKind, cap(p.prediction)),
		Label:        source.NewColumn(m.predKind, cap(p.label)),
		LabelTS:      make([]int64, 0, n),
		FeatureNames: make([]string, 0, len(m.features)),
		Features:     make(map[string]*source.Column, len(m.features)),
	}
	if m.predKind == source.Categorical {
		b.Prediction.Dict = append([]string(nil), m.classes...)
		b.Label.Dict = append([]string(nil), m.classes...)
	}
	for i, fs := range m.features {
		if !p.features[i] {
			continue
		}
		b.FeatureNames = append(b.FeatureNames, fs.name)
		c := source.NewColumn(fs.kind, n)
		if fs.kind == source.Categorical {
			c.Dict = append([]string(nil), fs.cats...)
		}
		b.Features[fs.name] = c
	}
	return b
}

// appendRow appends x to b, its version coded as vcode, carrying what p carries; cols are the
// columns of featureColumns.
func appendRow(b *source.Batch, m *modelSpec, p projection, cols []*source.Column, x *row, vcode int32) {
	b.TS = append(b.TS, x.ts)
	b.Version = append(b.Version, vcode)
	b.LatencyMs = append(b.LatencyMs, x.latency)
	b.Error = append(b.Error, x.err)
	b.Score = append(b.Score, x.score)
	b.LabelTS = append(b.LabelTS, x.labelTS)
	if m.predKind == source.Categorical {
		if p.prediction {
			b.Prediction.Cat = append(b.Prediction.Cat, x.predCat)
		}
		if p.label {
			b.Label.Cat = append(b.Label.Cat, x.labelCat)
		}
	} else {
		if p.prediction {
			b.Prediction.Num = append(b.Prediction.Num, x.predNum)
		}
		if p.label {
			b.Label.Num = append(b.Label.Num, x.labelNum)
		}
	}
	for i, c := range cols {
		switch {
		case c == nil:
		case c.Kind == source.Categorical:
			c.Cat = append(c.Cat, x.cat[i])
		default:
			c.Num = append(c.Num, x.num[i])
		}
	}
}

// featureColumns returns b's column of each of m's features, by position, nil for features b
// does not carry.
func featureColumns(m *modelSpec, b *source.Batch) []*source.Column {
	cols := make([]*source.Column, len(m.features))
	for i, fs := range m.features {
		cols[i] = b.Features[fs.name]
	}
	return cols
}

// Records returns the records of one model with Start < ts <= End, ascending by time
// (source.PredictionLog). Version "" means every version; Variables, when set, limit the outputs
// and features carried. When Limit > 0 at most Limit records are returned, the newest ones, and
// Truncated is set when older records exist in the range. Without a Limit, a range expected to
// hold more than MaxUnlimitedRecords records is an error.
func (f *Fleet) Records(ctx context.Context, req source.RecordsRequest) (*source.Batch, error) {
	m, v, err := f.lookup(req.Model, req.Version)
	if err != nil {
		return nil, err
	}
	if req.Limit < 0 {
		return nil, fmt.Errorf("demo: negative record limit %d", req.Limit)
	}
	if req.End.Before(req.Start) {
		return nil, fmt.Errorf("demo: end %s is before start %s", req.End.Format(time.RFC3339), req.Start.Format(time.RFC3339))
	}
	start, end := clampNano(req.Start), clampNano(req.End)
	exp := f.expected(m, start, end)
	versions := m.versions
	if v >= 0 {
		exp *= m.shares[v]
		versions = []string{m.versions[v]}
	} else {
		versions = append([]string(nil), versions...)
	}
	if req.Limit == 0 && exp > MaxUnlimitedRecords {
		return nil, fmt.Errorf("demo: %s to %s holds about %.0f records of %s, more than %d; set a limit",
			req.Start.Format(time.RFC3339), req.End.Format(time.RFC3339), exp, m.name, MaxUnlimitedRecords)
	}
	p := project(m, req.Variables)
	code := func(x *row) int32 {
		if v >= 0 {
			return 0
		}
		return x.version
	}
	if req.Limit > 0 && 2*exp+1000 > float64(req.Limit) {
		// The limit may bite: keep the newest records (the windows alert rules read), as the
		// server does for order=desc. A first pass draws only the records' counts, times and
		// versions, newest first, to find where the newest Limit records begin; the second
		// generates exactly those into a batch of their size (memory: one copy of the answer).
		n, cut, more, err := f.newestCut(ctx, m, v, start, end, req.Limit)
		if err != nil {
			return nil, err
		}
		b := newBatch(m, versions, n, p)
		cols := featureColumns(m, b)
		from := start
		if more {
			from = cut - 1
		}
		if err := f.generate(ctx, m, v, from, end, newRow(m), func(x *row) error {
			appendRow(b, m, p, cols, x, code(x))
			return nil
		}); err != nil {
			return nil, err
		}
		if extra := b.Len() - req.Limit; extra > 0 {
			// Records sharing the cut's nanosecond: keep the newest Limit.
			dropOldest(b, extra)
		}
		if more {
			b.Truncated, b.Newest, b.CompleteAfter = true, true, b.TS[0]
		}
		return b, nil
	}
	capacity := int(math.Min(exp*1.05+64, MaxUnlimitedRecords))
	if req.Limit > 0 && req.Limit < capacity {
		capacity = req.Limit
	}
	b := newBatch(m, versions, capacity, p)
	cols := featureColumns(m, b)
	err = f.generate(ctx, m, v, start, end, newRow(m), func(x *row) error {
		if req.Limit > 0 && len(b.TS) == req.Limit {
			b.Truncated = true
			return errStop
		}
		appendRow(b, m, p, cols, x, code(x))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return b, nil
}

// dropOldest removes the first k records of b.
func dropOldest(b *source.Batch, k int) {
	b.TS = b.TS[k:]
	b.Version = b.Version[k:]
	b.LatencyMs = b.LatencyMs[k:]
	b.Error = b.Error[k:]
	b.Score = b.Score[k:]
	b.LabelTS = b.LabelTS[k:]
	for _, c := range append([]*source.Column{b.Prediction, b.Label}, featureList(b)...) {
		if c.Len() < k {
			continue // an output the batch does not carry
		}
		if c.Kind == source.Categorical {
			c.Cat = c.Cat[k:]
		} else {
			c.Num = c.Num[k:]
		}
		if len(c.Mismatch) > k {
			c.Mismatch = c.Mismatch[k:]
		} else {
			c.Mismatch = nil
		}
	}
}

func featureList(b *source.Batch) []*source.Column {
	out := make([]*source.Column, 0, len(b.FeatureNames))
	for _, n := range b.FeatureNames {
		out = append(out, b.Features[n])
	}
	return out
}

// descChunk is the span of the chunks a backwards walk generates at a time.
const descChunk = int64(30 * time.Second)

// eachChunkDesc calls fn for the chunks (lo, hi] of (start, end], newest first, until fn says stop.
func (f *Fleet) eachChunkDesc(ctx context.Context, m *modelSpec, v int32, start, end int64, fn func(lo, hi int64) (bool, error)) error {
	for hi := end; hi > start; hi -= descChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		lo := max(hi-descChunk, start)
		stop, err := fn(lo, hi)
		if err != nil || stop {
			return err
		}
	}
	return nil
}

// eachRowDesc is eachRow newest first: chunks walked backwards, each buffered and replayed in
// reverse (memory follows one chunk).
func (f *Fleet) eachRowDesc(ctx context.Context, m *modelSpec, v int32, start, end time.Time, fn func(x *row) error) error {
	var rows []row
	err := f.eachChunkDesc(ctx, m, v, clampNano(start), clampNano(end), func(lo, hi int64) (bool, error) {
		rows = rows[:0]
		if err := f.generate(ctx, m, v, lo, hi, newRow(m), func(x *row) error {
			rows = append(rows, x.clone())
			return nil
		}); err != nil {
			return false, err
		}
		for i := len(rows) - 1; i >= 0; i-- {
			if err := fn(&rows[i]); err != nil {
				return false, err
			}
		}
		return false, nil
	})
	if err == errStop {
		return nil
	}
	return err
}

// Reference returns the reference (training) sample of a model: ReferenceSize rows drawn from the
// undrifted distributions, deterministic from the seed, with predictions of the version that
// scored them and a label on every row; latency is absent (NaN). Version "" gives the pooled
// sample, each row's version drawn with the traffic split.
func (f *Fleet) Reference(ctx context.Context, model, version string) (*source.Batch, error) {
	m, v, err := f.lookup(model, version)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	versions := append([]string(nil), m.versions...)
	if v >= 0 {
		versions = []string{version}
	}
	all := allOf(m)
	b := newBatch(m, versions, ReferenceSize, all)
	cols := featureColumns(m, b)
	f.referenceRows(m, v, newRow(m), func(x *row) {
		code := x.version
		if v >= 0 {
			code = 0
		}
		appendRow(b, m, all, cols, x, code)
	})
	return b, nil
}

// Each calls fn for every record of one model (version "" = all) with start < ts <= end, ascending;
// an error from fn stops the walk and is returned. It streams: memory does not grow with the range.
func (f *Fleet) Each(ctx context.Context, model, version string, start, end time.Time, fn func(r Record) error) error {
	m, v, err := f.lookup(model, version)
	if err != nil {
		return err
	}
	if fn == nil {
		return errors.New("demo: Each needs a callback")
	}
	return f.generate(ctx, m, v, clampNano(start), clampNano(end), newRow(m), func(x *row) error {
		return fn(m.record(x))
	})
}

// eachRow is Each without the conversion to Record (the server's fast path).
func (f *Fleet) eachRow(ctx context.Context, m *modelSpec, v int32, start, end time.Time, fn func(x *row) error) error {
	return f.generate(ctx, m, v, clampNano(start), clampNano(end), newRow(m), fn)
}

// Infer runs the toy model of a model version ("" = the latest version) on one set of features and
// returns its prediction (a class name or a number) and, for classifiers, its score (the
// probability of the predicted class; nil for the regressor). Features are given by name: numbers
// for numeric features, strings for categorical ones, nil or absent for missing values (the model
// imputes the training mean, or no category effect). An unseen category has no effect, as a
// missing one. Unknown feature names and values of the wrong type are errors.
func (f *Fleet) Infer(model, version string, features map[string]any) (prediction any, score *float64, err error) {
	m, v, err := f.lookup(model, version)
	if err != nil {
		return nil, nil, err
	}
	if v < 0 {
		v = index32(len(m.versions) - 1)
	}
	x := newRow(m)
	for i := range m.features {
		x.num[i], x.cat[i] = math.NaN(), -1
	}
	names := make([]string, 0, len(features))
	for k := range features {
		names = append(names, k)
	}
	sort.Strings(names) // deterministic error messages
	for _, name := range names {
		i := m.featureIndex(name)
		if i < 0 {
			return nil, nil, fmt.Errorf("model %s has no feature %q (features: %s)", m.name, name, strings.Join(m.featureNames(), ", "))
		}
		if err := m.setFeature(x, i, features[name]); err != nil {
			return nil, nil, err
		}
	}
	pn, pc, sc := m.predict(v, x.num, x.cat)
	if m.predKind == source.Categorical {
		prediction = m.classes[pc]
	} else {
		prediction = pn
	}
	if m.hasScore {
		s := sc
		score = &s
	}
	return prediction, score, nil
}

func (m *modelSpec) featureNames() []string {
	out := make([]string, len(m.features))
	for i, f := range m.features {
		out[i] = f.name
	}
	return out
}

// setFeature stores value as feature i of x, checking its type.
func (m *modelSpec) setFeature(x *row, i int, value any) error {
	fs := m.features[i]
	if value == nil {
		return nil
	}
	if fs.kind == source.Categorical {
		s, ok := value.(string)
		if !ok {
			return fmt.Errorf("feature %q of model %s is categorical: want a string, got %s", fs.name, m.name, describe(value))
		}
		x.cat[i] = -1
		for c, name := range fs.cats {
			if name == s {
				x.cat[i] = int32(c)
			}
		}
		return nil
	}
	var v float64
	switch n := value.(type) {
	case float64:
		v = n
	case float32:
		v = float64(n)
	case int:
		v = float64(n)
	case int32:
		v = float64(n)
	case int64:
		v = float64(n)
	case uint64:
		v = float64(n)
	case json.Number:
		p, err := n.Float64()
		if err != nil {
			return fmt.Errorf("feature %q of model %s is numeric: %q is not a number", fs.name, m.name, n.String())
		}
		v = p
	default:
		return fmt.Errorf("feature %q of model %s is numeric: want a number, got %s", fs.name, m.name, describe(value))
	}
	if math.IsInf(v, 0) {
		return fmt.Errorf("feature %q of model %s: infinite value", fs.name, m.name)
	}
	x.num[i] = v // NaN stays a missing value
	return nil
}

func describe(v any) string {
	switch t := v.(type) {
	case string:
		return fmt.Sprintf("the string %q", t)
	case bool:
		return fmt.Sprintf("the boolean %v", t)
	case float64, float32, int, int32, int64, uint64, json.Number:
		return fmt.Sprintf("the number %v", t)
	}
	return fmt.Sprintf("a %T", v)
}
