package query

import (
	"context"
	"errors"
	"fmt"
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

// newGrid places points at step-aligned times (multiples of step since the Unix epoch) within
// [From, To]. The step is the query interval (at least 1s), widened so that no more than
// MaxDataPoints points (at most limits.MaxPoints) are returned. The window defaults to the step. For a
// single-point output (`latest`, `table`) the only point is To and the window defaults to the
// whole range.
func newGrid(dq backend.DataQuery, window string, single bool) (grid, error) {
	from, to := dq.TimeRange.From, dq.TimeRange.To
	if !from.Before(to) {
		return grid{}, userError("the time range is empty (from %s, to %s)", from.Format(time.RFC3339), to.Format(time.RFC3339))
	}
	var w time.Duration
	if window != "" {
		d, err := parseDuration(window)
		if err != nil || d <= 0 {
			return grid{}, userError("window %q is not a positive duration like 5m", window)
		}
		w = d
	}
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
	span := to.Sub(from)
	mdp := dq.MaxDataPoints
	if mdp <= 0 || mdp > limits.MaxPoints {
		mdp = limits.MaxPoints
	}
	if int64(span/step) >= mdp {
		step = time.Duration((int64(span) + mdp - 1) / mdp)
		step = ((step + time.Second - 1) / time.Second) * time.Second
	}
	if w == 0 {
		w = step
	}
	s := int64(step)
	first := from.UnixNano()
	if r := first % s; r != 0 {
		if first >= 0 {
			first += s - r
		} else {
			first -= r
		}
	}
	var times []time.Time
	for t := first; t <= to.UnixNano(); t += s {
		times = append(times, time.Unix(0, t).UTC())
	}
	if len(times) == 0 {
		times = []time.Time{to}
	}
	return grid{times: times, step: step, window: w}, nil
}

// fetchRange is the range of records the grid needs: (first − window, last].
func (g grid) fetchRange() (time.Time, time.Time) {
	return g.times[0].Add(-g.window), g.times[len(g.times)-1]
}

// windows calls fn for each point with the positions [lo, hi) of idx whose records fall in that
// point's window. idx holds record positions in ascending time order; one pass, two pointers.
func (g grid) windows(ts []int64, idx []int32, fn func(i int, t time.Time, lo, hi int)) {
	lo, hi := 0, 0
	w := int64(g.window)
	for i, t := range g.times {
		end := t.UnixNano()
		start := end - w
		for hi < len(idx) && ts[idx[hi]] <= end {
			hi++
		}
		for lo < hi && ts[idx[lo]] <= start {
			lo++
		}
		fn(i, t, lo, hi)
	}
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
}

// gridRecords fetches the records of the query's models over the range the grid's windows cover.
func (h *Handler) gridRecords(ctx context.Context, src Resolved, q *Query, g grid) ([]fetched, []data.Notice, error) {
	models, notices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, err
	}
	start, end := g.fetchRange()
	out, fnotices, err := h.fetchRecords(ctx, src, models, q.Version, start, end)
	return out, append(notices, fnotices...), err
}

// fetchRecords fetches each model's records for (start, end] once, limits.FetchParallel models at a
// time, honouring maxSamples per model and limits.MaxQueryRecords over the query. With version "*"
// a model's records keep at most limits.MaxVersions versions (those with the most records).
func (h *Handler) fetchRecords(ctx context.Context, r Resolved, models []source.Model, version string, start, end time.Time) ([]fetched, []data.Notice, error) {
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
			b, err := r.Log.Records(ectx, source.RecordsRequest{Model: m.Name, Version: v, Start: start, End: end, Limit: limit})
			if err != nil {
				return sourceError(r.Name, err)
			}
			if b == nil {
				b = &source.Batch{Model: m.Name}
			}
			var notices []data.Notice
			if b.Truncated {
				notices = append(notices, frames.WarningNotice(truncatedText(m.Name, "", b)))
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

// truncatedText says what a batch cut at maxSamples covers: the connectors read records in time
// order, so only the first ones were read and the windows after the last of them are incomplete.
func truncatedText(model, what string, b *source.Batch) string {
	upTo := "the start"
	if n := b.Len(); n > 0 {
		upTo = time.Unix(0, b.TS[n-1]).UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%s: maxSamples reached: only the first %d records%s (up to %s) were read; later windows are incomplete or empty",
		model, b.Len(), what, upTo)
}
