package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"sort"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"golang.org/x/sync/errgroup"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// grid is the set of evaluation times of a query and the window each point summarises: the point at
// t covers the records with t − window < ts <= t (DESIGN §5).
type grid struct {
	times  []time.Time
	step   time.Duration
	window time.Duration
	latest bool
}

// minTime and maxTime bound the times a query can name: those whose Unix nanoseconds fit an int64
// (1677-09-21T00:12:43.145224192Z to 2262-04-11T23:47:16.854775807Z), which Grafana's time picker
// and every record timestamp use.
var (
	minTime = time.Unix(0, math.MinInt64).UTC()
	maxTime = time.Unix(0, math.MaxInt64).UTC()
)

// checkRange rejects a time range that is empty or that leaves the representable times.
func checkRange(from, to time.Time) error {
	if from.Before(minTime) || to.After(maxTime) {
		return userError("the time range (from %s, to %s) is outside the supported times %s to %s",
			from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339), minTime.Format(time.RFC3339), maxTime.Format(time.RFC3339))
	}
	if !from.Before(to) {
		return userError("the time range is empty (from %s, to %s)", from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))
	}
	return nil
}

// newGrid places points at step-aligned times (multiples of step since the Unix epoch) within
// [From, To]. The step is the query interval (at least 1s), widened so that no more than
// MaxDataPoints points (at most limits.MaxPoints) are returned. The window defaults to the step. For a
// single-point output (`latest`, `table`) the only point is To and the window defaults to the
// whole range.
//
// Every time of the range must fit int64 Unix nanoseconds (checkRange); the arithmetic below is
// overflow-free over that whole range (FuzzWindowGrid), so the number of points is bounded
// whatever the range.
func newGrid(dq backend.DataQuery, window string, single bool) (grid, error) {
	from, to := dq.TimeRange.From, dq.TimeRange.To
	if err := checkRange(from, to); err != nil {
		return grid{}, err
	}
	var w time.Duration
	if window != "" {
		d, err := parseDuration(window)
		if err != nil || d <= 0 {
			return grid{}, userError("window %s is not a positive duration like 5m", quoteName(window))
		}
		w = d
	}
	fromNs, toNs := from.UnixNano(), to.UnixNano()
	// span is exact in uint64 (up to 2^64 − 1 ns); to.Sub(from) saturates past 292 years.
	span := uint64(toNs) - uint64(fromNs)
	if single {
		if w == 0 {
			w = to.Sub(from)
		}
		return grid{times: []time.Time{to}, step: to.Sub(from), window: w, latest: true}, nil
	}
	step := dq.Interval
	if step < time.Second {
		step = time.Second
	}
	mdp := dq.MaxDataPoints
	if mdp <= 0 || mdp > limits.MaxPoints {
		mdp = limits.MaxPoints
	}
	if span/uint64(step) >= uint64(mdp) {
		ns := span/uint64(mdp) + 1 // ceil(span / mdp), or one more when it divides
		if span%uint64(mdp) == 0 {
			ns--
		}
		secs := ns / uint64(time.Second)
		if ns%uint64(time.Second) != 0 {
			secs++
		}
		if secs > uint64(math.MaxInt64/int64(time.Second)) {
			secs = uint64(math.MaxInt64 / int64(time.Second))
		}
		step = time.Duration(secs) * time.Second
	}
	if w == 0 {
		w = step
	}
	s := int64(step)
	// first is the smallest multiple of s at or after fromNs, when it is representable.
	q := fromNs / s // rounds toward zero
	if fromNs > 0 && fromNs%s != 0 {
		q++
	}
	var times []time.Time
	if q <= math.MaxInt64/s && q >= math.MinInt64/s {
		first := q * s
		if first <= toNs {
			// Modulo-2^64 arithmetic: first ≤ toNs, so the difference is exact in uint64 even when
			// it does not fit an int64; n ≤ mdp+1 after the bound below, so every time fits again.
			n := (uint64(toNs)-uint64(first))/uint64(s) + 1 // #nosec G115 -- exact modulo 2^64, see above
			if n > uint64(mdp)+1 {                          // cannot happen with the step above; a hard bound all the same
				first += int64((n - uint64(mdp) - 1) * uint64(s)) // #nosec G115 -- < toNs-first, fits int64
				n = uint64(mdp) + 1
			}
			times = make([]time.Time, 0, n)
			for i := uint64(0); i < n; i++ {
				times = append(times, time.Unix(0, int64(uint64(first)+i*uint64(s))).UTC()) // #nosec G115 -- first+i*s ≤ toNs
			}
		}
	}
	if len(times) == 0 {
		times = []time.Time{to}
	}
	return grid{times: times, step: step, window: w}, nil
}

// windowStart is end − w in Unix nanoseconds, saturated at the earliest representable time.
func windowStart(end int64, w time.Duration) int64 {
	if end < math.MinInt64+int64(w) {
		return math.MinInt64
	}
	return end - int64(w)
}

// fetchRange is the range of records the grid needs: (first − window, last], clamped to the
// representable times.
func (g grid) fetchRange() (time.Time, time.Time) {
	return time.Unix(0, windowStart(g.times[0].UnixNano(), g.window)).UTC(), g.times[len(g.times)-1]
}

// lastWindow is the part of idx (see windows) whose records fall in the window of the grid's last
// point: the single window of a table.
func (g grid) lastWindow(ctx context.Context, ts []int64, idx []int32) ([]int32, error) {
	var lo, hi int
	if err := g.windows(ctx, ts, idx, func(_ int, _ time.Time, l, h int) { lo, hi = l, h }); err != nil {
		return nil, err
	}
	return idx[lo:hi], nil
}

// windows calls fn for each point with the positions [lo, hi) of idx whose records fall in that
// point's window. idx holds record positions in ascending time order; one pass, two pointers. It
// stops with ctx's error when the query is cancelled (checked before every point: fn's work per
// point is bounded by the window's records and itself checks inside large kernels).
func (g grid) windows(ctx context.Context, ts []int64, idx []int32, fn func(i int, t time.Time, lo, hi int)) error {
	lo, hi := 0, 0
	for i, t := range g.times {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := t.UnixNano()
		start := windowStart(end, g.window)
		for hi < len(idx) && ts[idx[hi]] <= end {
			hi++
		}
		for lo < hi && ts[idx[lo]] <= start {
			lo++
		}
		fn(i, t, lo, hi)
	}
	return nil
}

// group is the records of one series split: all records, or one version's.
type group struct {
	version string
	idx     []int32
}

// groups splits a batch by version: one group of all records for an empty version, one per
// version (sorted) for "*", else only that version's records.
func groups(b *source.Batch, version string) []group {
	n := b.Len()
	switch version {
	case "":
		idx := make([]int32, n)
		for i := range idx {
			idx[i] = int32(i)
		}
		return []group{{idx: idx}}
	case WildcardAllVersions:
		byCode := map[int32][]int32{}
		for i := 0; i < n; i++ {
			c := versionCode(b, i)
			byCode[c] = append(byCode[c], int32(i))
		}
		out := make([]group, 0, len(byCode))
		for c, idx := range byCode {
			out = append(out, group{version: versionName(b, c), idx: idx})
		}
		sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
		return out
	default:
		idx := make([]int32, 0, n)
		for i := 0; i < n; i++ {
			if versionName(b, versionCode(b, i)) == version {
				idx = append(idx, int32(i))
			}
		}
		return []group{{version: version, idx: idx}}
	}
}

func versionCode(b *source.Batch, i int) int32 {
	if i < len(b.Version) {
		return b.Version[i]
	}
	return -1
}

func versionName(b *source.Batch, c int32) string {
	if c >= 0 && int(c) < len(b.Versions) {
		return b.Versions[c]
	}
	return "unknown"
}

// noVersionLabel is the value of a label that would be empty: the version of records that carry
// none, or a label an upstream series lacks (label values must not be empty).
const noVersionLabel = "(none)"

// labels returns the base labels of a series: model, and version when the query names or splits
// versions.
func labels(model string, q *Query, g *group) data.Labels {
	l := data.Labels{"model": model}
	if q.Version != "" {
		l["version"] = g.version
		if g.version == "" {
			l["version"] = noVersionLabel
		}
	}
	return l
}

// fetched is a model's records for a query.
type fetched struct {
	model source.Model
	batch *source.Batch
	// pushed names the drift specs the source counts in its database (drift push-down).
	pushed map[string]bool
}

// gridRecords fetches the records of the query's models over the range the grid's windows cover.
func (h *Handler) gridRecords(ctx context.Context, src Resolved, q *Query, g grid) ([]fetched, []data.Notice, error) {
	return h.gridRecordsOf(ctx, src, q, g, nil)
}

// gridRecordsOf is gridRecords reading only the given features and outputs (nil: all; see
// source.RecordsRequest.Variables).
func (h *Handler) gridRecordsOf(ctx context.Context, src Resolved, q *Query, g grid, variables []string) ([]fetched, []data.Notice, error) {
	models, notices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, err
	}
	start, end := g.fetchRange()
	out, fnotices, err := h.fetchRecordsOf(ctx, src, models, q.Version, start, end, variables)
	return out, append(notices, fnotices...), err
}

// fetchRecords fetches each model's records for (start, end] once, limits.FetchParallel models at a
// time, honouring maxSamples per model and limits.MaxQueryRecords over the query. With version "*"
// a model's records keep at most limits.MaxVersions versions (those with the most records).
func (h *Handler) fetchRecords(ctx context.Context, r Resolved, models []source.Model, version string, start, end time.Time) ([]fetched, []data.Notice, error) {
	return h.fetchRecordsOf(ctx, r, models, version, start, end, nil)
}

// fetchRecordsOf is fetchRecords reading only the given features and outputs (nil: all).
func (h *Handler) fetchRecordsOf(ctx context.Context, r Resolved, models []source.Model, version string, start, end time.Time, variables []string) ([]fetched, []data.Notice, error) {
	return h.fetchWith(ctx, r, r.Log.Records, models, version, start, end, variables)
}

// fetchWith is fetchRecordsOf reading each model's records with read.
func (h *Handler) fetchWith(ctx context.Context, r Resolved, read func(context.Context, source.RecordsRequest) (*source.Batch, error),
	models []source.Model, version string, start, end time.Time, variables []string) ([]fetched, []data.Notice, error) {
	v := version
	if v == WildcardAllVersions {
		v = ""
	}
	for _, m := range models {
		if v != "" && len(m.Versions) > 0 && !m.HasVersion(v) {
			return nil, nil, userError("model %q has no version %q (versions: %v)", m.Name, v, m.Versions)
		}
	}
	limit := perModelLimit(h.deps.MaxSamples, len(models))
	out := make([]fetched, len(models))
	perModel := make([][]data.Notice, len(models))
	eg, ectx := errgroup.WithContext(ctx)
	eg.SetLimit(limits.FetchParallel)
	for i, m := range models {
		eg.Go(func() (err error) {
			// A panic here is on another goroutine than the query's: recover it as the query's error.
			defer func() {
				if p := recover(); p != nil {
					h.deps.Logger.FromContext(ctx).Error("records fetch panic", "model", m.Name, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
					err = backend.PluginError(errors.New("internal error while fetching records; the plugin log has the details"))
				}
			}()
			b, err := read(ectx, source.RecordsRequest{Model: m.Name, Version: v, Start: start, End: end, Limit: limit, Variables: variables})
			if err != nil {
				return sourceError(r.Name, err)
			}
			if b == nil {
				b = &source.Batch{Model: m.Name}
			}
			var notices []data.Notice
			if b.Truncated {
				notices = append(notices, frames.WarningNotice(truncatedText(m.Name, "", b, start)))
			}
			if b.SampledFrom > int64(b.Len()) {
				notices = append(notices, sampledNotice(m.Name, v, b))
			}
			if b.Len() == 0 {
				notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s%s: no records after %s up to %s", m.Name, versionSuffix(v),
					start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))))
			}
			if version == WildcardAllVersions {
				var n *data.Notice
				if b, n = capVersions(b); n != nil {
					notices = append(notices, *n)
				}
			}
			out[i] = fetched{model: m, batch: b}
			perModel[i] = notices
			return nil
		})
	}
	if err := eg.Wait(); err != nil {
		return nil, nil, err
	}
	var notices []data.Notice
	for _, ns := range perModel {
		notices = append(notices, ns...)
	}
	return out, notices, nil
}

// perModelLimit is the records one model may read when a query covers n models: maxSamples (0: no
// cap) each, and together at most max(maxSamples, limits.MaxQueryRecords).
func perModelLimit(maxSamples, n int) int {
	if n <= 1 {
		return maxSamples
	}
	total := limits.MaxQueryRecords
	if maxSamples > total {
		total = maxSamples
	}
	per := total / n
	if maxSamples > 0 && maxSamples < per {
		per = maxSamples
	}
	return max(per, 1)
}

// capVersions keeps the records of the limits.MaxVersions versions with the most records (ties by
// name) and says so in a warning notice; a batch with fewer versions is returned as it is.
func capVersions(b *source.Batch) (*source.Batch, *data.Notice) {
	counts := map[int32]int{}
	for i := 0; i < b.Len(); i++ {
		counts[versionCode(b, i)]++
	}
	if len(counts) <= limits.MaxVersions {
		return b, nil
	}
	codes := make([]int32, 0, len(counts))
	for c := range counts {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		ci, cj := counts[codes[i]], counts[codes[j]]
		if ci != cj {
			return ci > cj
		}
		return versionName(b, codes[i]) < versionName(b, codes[j])
	})
	keep := map[int32]bool{}
	for _, c := range codes[:limits.MaxVersions] {
		keep[c] = true
	}
	idx := make([]int32, 0, b.Len())
	for i := 0; i < b.Len(); i++ {
		if keep[versionCode(b, i)] {
			idx = append(idx, int32(i))
		}
	}
	n := frames.WarningNotice(fmt.Sprintf("%s: the records have %d versions: only the %d with the most records are shown; name a version to see another",
		b.Model, len(counts), limits.MaxVersions))
	return subBatch(b, idx), &n
}

// truncatedText says what a batch cut at maxSamples covers, and what was dropped: the newest
// records when the API answered newest first or its tail was read again (earlier windows are then
// incomplete), else the oldest (later windows incomplete). start is the start of the range read.
func truncatedText(model, what string, b *source.Batch, start time.Time) string {
	n := b.Len()
	rfc := func(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }
	if b.Newest && n > 0 {
		how := "the API answered newest first"
		if b.OrderIgnored {
			how = fmt.Sprintf("the API ignored order=desc, so the end of the range was read again (%d more request(s))", b.TailReads)
		}
		return fmt.Sprintf("%s: maxSamples reached: the newest %d records%s (every record after %s) were read; %s; records from %s to %s were dropped: earlier windows are incomplete or empty",
			model, n, what, rfc(b.CompleteAfter), how, start.UTC().Format(time.RFC3339), rfc(b.CompleteAfter))
	}
	upTo := "the start"
	if n > 0 {
		upTo = rfc(b.TS[n-1])
	}
	why := ""
	if b.OrderIgnored {
		why = fmt.Sprintf(" (the API ignored order=desc and %d re-read(s) of the end of the range were cut too)", b.TailReads)
	}
	return fmt.Sprintf("%s: maxSamples reached: only the first %d records%s (up to %s) were read%s; records after that were dropped: later windows are incomplete or empty",
		model, n, what, upTo, why)
}
