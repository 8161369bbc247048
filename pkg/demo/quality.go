package demo

import (
	"math"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Data-quality incidents of the demo fleet, recurring daily (UTC). They touch only live records
// (the reference samples stay clean) and are applied after a record's outputs and label are drawn,
// from a random stream of their own, so every other field of every record is what it is without
// them.

// NullIncident is the daily hour when a feature of one model arrives null in every record (an
// upstream join that breaks): fraud-detector's distance_km from 20:00 to 21:00 UTC.
var NullIncident = QualityIncident{Model: "fraud-detector", Feature: "distance_km", Start: 20 * time.Hour, Duration: time.Hour, Share: 1}

// NewCategoryIncident is the daily period when a category the reference never had appears in a
// share of one model's records: churn-classifier's payment_method "crypto_wallet" in 10% of the
// records from 18:00 to 19:00 UTC.
var NewCategoryIncident = QualityIncident{Model: "churn-classifier", Feature: "payment_method", Category: "crypto_wallet",
	Start: 18 * time.Hour, Duration: time.Hour, Share: 0.1}

// QualityIncident is a daily period [Start, Start+Duration) of a time of day (UTC) when a share of
// a model's records carry a broken feature value: null, or the unseen Category when one is set.
type QualityIncident struct {
	Model, Feature string
	// Category is the unseen category (empty: the value becomes null).
	Category        string
	Start, Duration time.Duration
	// Share is the probability that a record in the period is affected.
	Share float64
}

// Contains reports whether t falls in the incident's period on its day.
func (q QualityIncident) Contains(t time.Time) bool { return q.window().containsNano(t.UnixNano()) }

func (q QualityIncident) window() Window {
	return Window{Model: q.Model, Start: q.Start, Duration: q.Duration}
}

// streamQuality is the random-stream purpose of the incidents (after fleet.go's streams).
const streamQuality = 101

// qualityEffect is an incident resolved against a model: the feature's position and, for a new
// category, its code (the category is appended to the feature's categories, after the ones the
// generator draws, so no other record ever has it).
type qualityEffect struct {
	QualityIncident
	feature int
	code    int32
}

// qualityEffects lists the resolved incidents per model.
var qualityEffects = map[*modelSpec][]qualityEffect{}

func init() {
	for _, inc := range []QualityIncident{NullIncident, NewCategoryIncident} {
		for _, m := range specs {
			if m.name != inc.Model {
				continue
			}
			i := m.featureIndex(inc.Feature)
			if i < 0 {
				panic("demo: incident on unknown feature " + inc.Feature)
			}
			e := qualityEffect{QualityIncident: inc, feature: i, code: -1}
			if inc.Category != "" {
				fs := &m.features[i]
				if fs.kind != source.Categorical {
					panic("demo: new-category incident on numeric feature " + inc.Feature)
				}
				fs.cats = append(fs.cats[:len(fs.cats):len(fs.cats)], inc.Category)
				e.code = int32(len(fs.cats) - 1) // #nosec G115 -- a handful of categories
			}
			qualityEffects[m] = append(qualityEffects[m], e)
		}
	}
}

// applyQuality applies the model's incidents to live record i of second s (x already filled).
func (f *Fleet) applyQuality(m *modelSpec, x *row, s int64, i int) {
	for _, e := range qualityEffects[m] {
		if !e.window().containsNano(x.ts) {
			continue
		}
		if e.Share < 1 {
			r := newRNG(key(f.seed, m.id, streamQuality, word(s), uint64(i))) // #nosec G115 -- i is a non-negative record index
			if r.float() >= e.Share {
				continue
			}
		}
		if e.code >= 0 {
			x.cat[e.feature] = e.code
		} else if m.features[e.feature].kind == source.Categorical {
			x.cat[e.feature] = -1
		} else {
			x.num[e.feature] = math.NaN()
		}
	}
}
