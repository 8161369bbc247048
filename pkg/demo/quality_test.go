package demo

import (
	"math"
	"strings"
	"testing"
	"time"
)

// TestQualityIncidents: during the null hour every record's distance_km is null and outside it
// none is; during the new-category hour about 10% of churn-classifier's records have
// payment_method "crypto_wallet" and outside it none has; the reference never has either.
func TestQualityIncidents(t *testing.T) {
	f := NewFleet(DefaultSeed)
	nullStart := day0.Add(NullIncident.Start)
	b := records(t, f, NullIncident.Model, "", nullStart.Add(-10*time.Minute), nullStart.Add(NullIncident.Duration+10*time.Minute))
	col := b.Features[NullIncident.Feature]
	in, nulls := 0, 0
	for i, ts := range b.TS {
		during := NullIncident.Contains(time.Unix(0, ts))
		isNull := math.IsNaN(col.Num[i])
		if during {
			in++
		}
		if isNull {
			nulls++
		}
		if during != isNull {
			t.Fatalf("record at %s: null %v, during the incident %v", time.Unix(0, ts).UTC(), isNull, during)
		}
	}
	if in < 1000 {
		t.Fatalf("only %d records in the null hour", in)
	}

	catStart := day0.Add(NewCategoryIncident.Start)
	b = records(t, f, NewCategoryIncident.Model, "", catStart.Add(-10*time.Minute), catStart.Add(NewCategoryIncident.Duration+10*time.Minute))
	col = b.Features[NewCategoryIncident.Feature]
	in, hits := 0, 0
	for i, ts := range b.TS {
		during := NewCategoryIncident.Contains(time.Unix(0, ts))
		c := col.Cat[i]
		isNew := c >= 0 && col.Dict[c] == NewCategoryIncident.Category
		if isNew && !during {
			t.Fatalf("record at %s has the new category outside the incident", time.Unix(0, ts).UTC())
		}
		if during {
			in++
			if isNew {
				hits++
			}
		}
	}
	// Binomial(in, 0.1) with in ≈ 7000 records: the share is within 5 standard deviations.
	share := float64(hits) / float64(in)
	if sd := math.Sqrt(0.1 * 0.9 / float64(in)); math.Abs(share-0.1) > 5*sd {
		t.Fatalf("new category in %d of %d records (%.4f), want 0.1 ± %.4f", hits, in, share, 5*sd)
	}

	for _, inc := range []QualityIncident{NullIncident, NewCategoryIncident} {
		ref, err := f.Reference(t.Context(), inc.Model, "")
		if err != nil {
			t.Fatal(err)
		}
		c := ref.Features[inc.Feature]
		for i := 0; i < ref.Len(); i++ {
			if inc.Category != "" && c.Cat[i] >= 0 && c.Dict[c.Cat[i]] == inc.Category {
				t.Fatalf("%s: the reference has the new category", inc.Model)
			}
			if inc.Category == "" && c.Kind == "numeric" && math.IsNaN(c.Num[i]) {
				t.Fatalf("%s: the reference has a null %s", inc.Model, inc.Feature)
			}
		}
	}
}

// TestQualityIncidentsTouchOnlyTheirFeature: the records of the incident periods equal, field by
// field, the records the fleet generates without the incidents, except the incident's feature.
func TestQualityIncidentsTouchOnlyTheirFeature(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, inc := range []QualityIncident{NullIncident, NewCategoryIncident} {
		from, to := day0.Add(inc.Start-time.Minute), day0.Add(inc.Start+10*time.Minute)
		with := batchLines(records(t, f, inc.Model, "", from, to))
		m := f.byName[inc.Model]
		saved := qualityEffects[m]
		delete(qualityEffects, m)
		without := batchLines(records(t, f, inc.Model, "", from, to))
		qualityEffects[m] = saved
		if len(with) != len(without) {
			t.Fatalf("%s: %d records with the incident, %d without", inc.Model, len(with), len(without))
		}
		changed := 0
		for i := range with {
			if with[i] == without[i] {
				continue
			}
			changed++
			a, b := strings.Fields(with[i]), strings.Fields(without[i])
			for j := range a {
				if a[j] != b[j] && !strings.HasPrefix(a[j], inc.Feature+"=") {
					t.Fatalf("%s record %d: %q changed to %q", inc.Model, i, b[j], a[j])
				}
			}
		}
		if changed == 0 {
			t.Fatalf("%s: the incident changed no record", inc.Model)
		}
	}
}
