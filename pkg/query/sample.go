package query

import (
	"context"
	"fmt"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Sampling in the database: the statistics that need each window's raw values (ks, wasserstein,
// percentiles where windows overlap) read, from a source that samples in its database
// (source.Sampler: PostgreSQL), only the columns they use, and above maxSamples records per model
// (the same budget as a raw read, shared between the query's models) a deterministic sample spread
// over the whole range instead of the newest records: every window keeps its share of values,
// and the same query over the same rows gives the same numbers.

// sampler returns the source's Sampler when it has one and push-down is on.
func (h *Handler) sampler(src Resolved) (source.Sampler, bool) {
	if h.deps.NoPushdown || src.Log == nil {
		return nil, false
	}
	s, ok := src.Log.(source.Sampler)
	return s, ok
}

// fetchSampledOf is fetchRecordsOf through the source's Sampler when it has one (only the time,
// the version and the given variables are read), else fetchRecordsOf.
func (h *Handler) fetchSampledOf(ctx context.Context, src Resolved, models []source.Model, version string, start, end time.Time, variables []string) ([]fetched, []data.Notice, error) {
	s, ok := h.sampler(src)
	if !ok {
		// Records always reads the latency and the score: they are not Variables there.
		var vars []string
		if variables != nil {
			vars = make([]string, 0, len(variables))
			for _, v := range variables {
				if v != FeatureLatency && v != FeatureScore {
					vars = append(vars, v)
				}
			}
		}
		return h.fetchRecordsOf(ctx, src, models, version, start, end, vars)
	}
	return h.fetchWith(ctx, src, s.SampleRecords, models, version, start, end, variables)
}

// gridSampledOf is gridRecordsOf through fetchSampledOf.
func (h *Handler) gridSampledOf(ctx context.Context, src Resolved, q *Query, g grid, variables []string) ([]fetched, []data.Notice, error) {
	models, notices, err := h.queryModels(ctx, src, q)
	if err != nil {
		return nil, nil, err
	}
	start, end := g.fetchRange()
	out, fnotices, err := h.fetchSampledOf(ctx, src, models, q.Version, start, end, variables)
	return out, append(notices, fnotices...), err
}

// sampledNotice says that a model's records were sampled: how many of how many, and how.
func sampledNotice(model, version string, b *source.Batch) data.Notice {
	return frames.WarningNotice(fmt.Sprintf("%s%s: sampled %s of %s records (maxSamples): a deterministic sample spread over the whole range; each window's values are its share of the sample",
		model, versionSuffix(version), thousands(int64(b.Len())), thousands(b.SampledFrom)))
}

// thousands writes n with comma thousands separators (1,000,000).
func thousands(n int64) string {
	s := fmt.Sprint(n)
	neg := n < 0
	if neg {
		s = s[1:]
	}
	out := make([]byte, 0, len(s)+len(s)/3+1)
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
