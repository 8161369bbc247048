package query

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

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
	models, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, err
	}
	start, end := g.fetchRange()
	return h.fetchRecords(ctx, src, models, q.Version, start, end)
}

// fetchRecords fetches each model's records for (start, end] once, honouring maxSamples.
func (h *Handler) fetchRecords(ctx context.Context, r Resolved, models []source.Model, version string, start, end time.Time) ([]fetched, []data.Notice, error) {
	v := version
	if v == WildcardAllVersions {
		v = ""
	}
	out := make([]fetched, 0, len(models))
	var notices []data.Notice
	for _, m := range models {
		if v != "" && len(m.Versions) > 0 && !m.HasVersion(v) {
			return nil, nil, userError("model %q has no version %q (versions: %v)", m.Name, v, m.Versions)
		}
		b, err := r.Log.Records(ctx, source.RecordsRequest{Model: m.Name, Version: v, Start: start, End: end, Limit: h.deps.MaxSamples})
		if err != nil {
			return nil, nil, sourceError(r.Name, err)
		}
		if b == nil {
			b = &source.Batch{Model: m.Name}
		}
		if b.Truncated {
			notices = append(notices, frames.WarningNotice(truncatedText(m.Name, "", b, start)))
		}
		if b.Len() == 0 {
			notices = append(notices, frames.InfoNotice(fmt.Sprintf("%s%s: no records after %s up to %s", m.Name, versionSuffix(v),
				start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339))))
		}
		out = append(out, fetched{model: m, batch: b})
	}
	return out, notices, nil
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
