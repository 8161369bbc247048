package query

import "slices"

// validatePerformance checks the fields of a `performance` query that need no source: the metric
// names, the average, scoreOf, and the positive class every binary or score metric needs.
func validatePerformance(q *Query) error {
	for _, m := range q.Metrics {
		if !oneOf(m, PerformanceMetrics) {
			return userError("unknown performance metric %s (one of %s)", quoteName(m), quoteAll(PerformanceMetrics))
		}
	}
	if q.Average != "" && !oneOf(q.Average, Averages) {
		return userError("unknown average %s (one of %s)", quoteName(q.Average), quoteAll(Averages))
	}
	if q.ScoreOf != "" && !oneOf(q.ScoreOf, ScoreOfs) {
		return userError("unknown scoreOf %s (one of %s)", quoteName(q.ScoreOf), quoteAll(ScoreOfs))
	}
	if r := q.Reference; r != nil && r.Kind != "" && r.Kind != ReferenceDataset {
		return userError("performance queries calibrate CBPE on the reference dataset only: remove reference or set reference.kind to %q", ReferenceDataset)
	}
	if q.Estimated && !slices.ContainsFunc(perfMetrics(q), func(m string) bool { return slices.Contains(EstimatedMetrics, m) }) {
		return userError("estimated (CBPE) estimates %s: ask for at least one of them", quoteAll(EstimatedMetrics))
	}
	if q.PositiveClass != "" {
		return nil
	}
	if q.Average == AverageBinary {
		return userError("average %q needs positiveClass (the class whose precision, recall and f1 are reported, e.g. \"fraud\")", AverageBinary)
	}
	for _, m := range perfMetrics(q) {
		switch {
		case m == PerfECE && q.ScoreOf == ScoreOfPrediction:
			// The confidence ECE needs no positive class.
		case slices.Contains(ScoreMetrics, m):
			return userError("metric %s needs positiveClass: the class whose probability the score is (scoreOf %q) or that the truth is compared with",
				m, scoreOf(q))
		}
	}
	if q.Estimated {
		return userError("estimated (CBPE) needs positiveClass: the positive class of the binary classifier, e.g. \"fraud\"")
	}
	return nil
}

// perfMetrics returns the metrics a performance query asks for (deduplicated), or the default:
// accuracy (the regression default, rmse, is chosen per model).
func perfMetrics(q *Query) []string {
	if len(q.Metrics) == 0 {
		return []string{PerfAccuracy}
	}
	return dedupe(q.Metrics)
}

func scoreOf(q *Query) string {
	if q.ScoreOf == "" {
		return ScoreOfPositiveClass
	}
	return q.ScoreOf
}

func average(q *Query) string {
	if q.Average == "" {
		return AverageMacro
	}
	return q.Average
}
