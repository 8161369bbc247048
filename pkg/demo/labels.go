package demo

import (
	"math"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Ground truth in the demo fleet: when each record's label arrives, and the fraud detector's
// degradation. Both draw from random streams of their own (keyed like a record's stream, with
// other purposes), so every other field of every record is what it was before they existed.

// Random-stream purposes of the labels (apart from those of fleet.go).
const (
	streamLabelDelay   = 101
	streamLabelConcept = 102
)

// LabelDelay is how late the ground truth of a model's records arrives: log-normal with the given
// median and σ of its logarithm, at most MaxLabelDelay.
type LabelDelay struct {
	Median time.Duration
	Sigma  float64
}

// LabelDelays are the label delays of the demo models (a copy: changing it does not change the
// fleet): chargebacks confirm fraud within the hour, churn is known after hours, house prices when
// the sale closes.
var LabelDelays = map[string]LabelDelay{
	"fraud-detector":   labelDelays["fraud-detector"],
	"churn-classifier": labelDelays["churn-classifier"],
	"price-regressor":  labelDelays["price-regressor"],
}

var labelDelays = map[string]LabelDelay{
	"fraud-detector":   {Median: 40 * time.Minute, Sigma: 0.7},
	"churn-classifier": {Median: 3 * time.Hour, Sigma: 0.5},
	"price-regressor":  {Median: 6 * time.Hour, Sigma: 0.4},
}

// MaxLabelDelay caps every label delay.
const MaxLabelDelay = 24 * time.Hour

// FraudPatternRate is the fraud detector's known quality incident: while input drift is active
// (DriftStart to midnight UTC) a new fraud pattern appears in the drifted merchant categories that
// the model never learnt: a labelled record of merchant category electronics or gaming whose label
// would be legit is labelled fraud with this probability. The predictions do not change, so the
// realised accuracy of both versions falls from about 0.94 to about 0.80 (2-hour windows, every
// label known). CBPE sees only the scores: it follows the covariate drift (about 0.945 → 0.89) but
// cannot see the change of P(y | score) — the gap between the two is the incident's signature.
const FraudPatternRate = 0.25

// FraudDegraded reports whether the fraud detector's labels follow the new pattern at t.
func FraudDegraded(t time.Time) bool { return DriftActive(t) }

// fraudPatternMerchants are the merchant_category codes of the new pattern (electronics, gaming).
var fraudPatternMerchants = [...]int32{4, 5}

// labelEvents sets the label time of a generated record (second s, index i of that second) and
// applies the fraud pattern to its label.
func (f *Fleet) labelEvents(m *modelSpec, x *row, s int64, i int) {
	x.labelTS = source.NoTime
	if x.labelCat < 0 && math.IsNaN(x.labelNum) {
		return
	}
	if m == fraudDetector && x.labelCat == 0 && timeOfDay(x.ts) >= int64(DriftStart) {
		c := x.cat[4]
		if c == fraudPatternMerchants[0] || c == fraudPatternMerchants[1] {
			r := newRNG(key(f.seed, m.id, streamLabelConcept, word(s), uint64(i))) // #nosec G115 -- i >= 0
			if r.float() < FraudPatternRate {
				x.labelCat = 1
			}
		}
	}
	d := labelDelays[m.name]
	r := newRNG(key(f.seed, m.id, streamLabelDelay, word(s), uint64(i))) // #nosec G115 -- i >= 0
	delay := math.Min(float64(d.Median)*math.Exp(d.Sigma*r.norm()), float64(MaxLabelDelay))
	x.labelTS = x.ts + int64(delay)
}
