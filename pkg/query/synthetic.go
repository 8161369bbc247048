package query

import (
	"context"
	"sync/atomic"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
)

// SyntheticNotice is the notice on every frame of a response that the demo fleet contributed to
// (current data, reference sample or health): its numbers are made up and must never be read as a
// real model's.
const SyntheticNotice = "Synthetic data: the built-in demo fleet answered this query, not a real model " +
	"(the data source has demo turned on, or no settings at all)."

type syntheticKey struct{}

// withSyntheticMark returns a context in which usedDemo records that the demo fleet was picked,
// and the flag it sets.
func withSyntheticMark(ctx context.Context) (context.Context, *atomic.Bool) {
	var used atomic.Bool
	return context.WithValue(ctx, syntheticKey{}, &used), &used
}

// usedDemo records, in a query's context, that r is the source picked for some of its data.
// Every place that picks a source for a query's data returns through it.
func usedDemo(ctx context.Context, r Resolved) Resolved {
	if r.Name == SourceDemo {
		if used, ok := ctx.Value(syntheticKey{}).(*atomic.Bool); ok {
			used.Store(true)
		}
	}
	return r
}

// markSynthetic adds SyntheticNotice (severity warning) to every frame. Grafana shows one notice
// icon per severity in the panel header, so the repetition costs nothing there, and a frame taken
// alone (a table panel's frame selector, a transformation) still says what it holds.
func markSynthetic(fs data.Frames) {
	frames.AddNoticeToAll(fs, frames.WarningNotice(SyntheticNotice))
}
