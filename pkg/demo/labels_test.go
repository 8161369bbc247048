package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestLabelEventsChangeOnlyLabels: the label events draw from streams of their own. Against the
// fleet without them, every field of every record is bit-identical except the label time (set
// exactly on labelled records, after the record) and, for the fraud detector while the incident
// is on, labels that turn from legit to fraud in the pattern's merchant categories — at about
// FraudPatternRate of those records.
func TestLabelEventsChangeOnlyLabels(t *testing.T) {
	f := NewFleet(DefaultSeed)
	raw := NewFleet(DefaultSeed)
	raw.rawLabels = true
	day := time.Date(2026, 3, 2, 0, 0, 0, 0, time.UTC)
	for _, span := range [][2]time.Duration{{5 * time.Hour, 5*time.Hour + 20*time.Minute}, {10 * time.Hour, 10*time.Hour + 20*time.Minute}} {
		from, to := day.Add(span[0]), day.Add(span[1])
		for _, m := range specs {
			var got, want []row
			collect := func(dst *[]row) func(x *row) error {
				return func(x *row) error { *dst = append(*dst, x.clone()); return nil }
			}
			if err := f.eachRow(context.Background(), m, -1, from, to, collect(&got)); err != nil {
				t.Fatal(err)
			}
			if err := raw.eachRow(context.Background(), m, -1, from, to, collect(&want)); err != nil {
				t.Fatal(err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d records, %d without label events", m.name, len(got), len(want))
			}
			flipped, eligible := 0, 0
			for i := range got {
				g, w := got[i], want[i]
				same := g.ts == w.ts && g.version == w.version && g.err == w.err && same64(g.latency, w.latency) &&
					same64(g.predNum, w.predNum) && g.predCat == w.predCat && same64(g.score, w.score) && same64(g.labelNum, w.labelNum)
				for k := range g.num {
					same = same && same64(g.num[k], w.num[k]) && g.cat[k] == w.cat[k]
				}
				if !same {
					t.Fatalf("%s record %d: a field other than the label changed", m.name, i)
				}
				if w.labelTS != source.NoTime {
					t.Fatalf("%s record %d: a label time without label events", m.name, i)
				}
				labelled := g.labelCat >= 0 || !math.IsNaN(g.labelNum)
				if labelled != (g.labelTS != source.NoTime) {
					t.Fatalf("%s record %d: label %v, label time %d", m.name, i, labelled, g.labelTS)
				}
				if labelled && (g.labelTS <= g.ts || g.labelTS-g.ts > int64(MaxLabelDelay)) {
					t.Fatalf("%s record %d: label delay %v", m.name, i, time.Duration(g.labelTS-g.ts))
				}
				incident := m == fraudDetector && FraudDegraded(time.Unix(0, g.ts)) && w.labelCat == 0 && (w.cat[4] == 4 || w.cat[4] == 5)
				if incident {
					eligible++
				}
				if g.labelCat != w.labelCat {
					if !incident || g.labelCat != 1 {
						t.Fatalf("%s record %d: label %d, %d without label events", m.name, i, g.labelCat, w.labelCat)
					}
					flipped++
				}
			}
			if m == fraudDetector && span[0] >= DriftStart {
				if share := float64(flipped) / float64(eligible); eligible < 300 || math.Abs(share-FraudPatternRate) > 0.06 {
					t.Errorf("fraud pattern: %d of %d eligible labels flipped", flipped, eligible)
				}
			} else if flipped != 0 {
				t.Errorf("%s %v: %d labels flipped outside the incident", m.name, span, flipped)
			}
		}
	}
}

func same64(a, b float64) bool { return math.Float64bits(a) == math.Float64bits(b) }

// TestLabelDelayMedians: the label delays follow LabelDelays (median within 10 %).
func TestLabelDelayMedians(t *testing.T) {
	f := NewFleet(DefaultSeed)
	from := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	for name, d := range LabelDelays {
		b, err := f.Records(context.Background(), source.RecordsRequest{Model: name, Start: from, End: from.Add(2 * time.Hour)})
		if err != nil {
			t.Fatal(err)
		}
		var delays []float64
		for i, lt := range b.LabelTS {
			if lt != source.NoTime {
				delays = append(delays, float64(lt-b.TS[i]))
			}
		}
		if len(delays) < 500 {
			t.Fatalf("%s: %d labelled records", name, len(delays))
		}
		below := 0
		for _, v := range delays {
			if v < float64(d.Median) {
				below++
			}
		}
		if share := float64(below) / float64(len(delays)); math.Abs(share-0.5) > 0.05 {
			t.Errorf("%s: %.3f of the delays below the median %s", name, share, d.Median)
		}
	}
}

// TestRawFleetFingerprint: without the label events the fraud detector's records are those
// TestGeneratorStable pinned before they existed.
func TestRawFleetFingerprint(t *testing.T) {
	raw := NewFleet(DefaultSeed)
	raw.rawLabels = true
	from := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	h := fnv.New64a()
	n := 0
	err := raw.eachRow(context.Background(), fraudDetector, -1, from, from.Add(10*time.Minute), func(x *row) error {
		fmt.Fprintf(h, "%d %d %v %d %d", x.ts, x.version, x.err, x.predCat, x.labelCat)
		for i, fs := range fraudDetector.features {
			if fs.kind == source.Categorical {
				fmt.Fprintf(h, " %d", x.cat[i])
			}
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprintf("%d records, fnv64a %016x", n, h.Sum64()); got != "3499 records, fnv64a 6957884bc9ac756b" {
		t.Errorf("without label events: %s", got)
	}
}

// TestRecordLabelTS: a record's label time reaches its JSON (and back), null without a label.
func TestRecordLabelTS(t *testing.T) {
	f := NewFleet(DefaultSeed)
	from := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	seen := 0
	err := f.Each(context.Background(), "fraud-detector", "", from, from.Add(time.Minute), func(r Record) error {
		b, err := r.MarshalJSON()
		if err != nil {
			return err
		}
		var back Record
		if err := back.UnmarshalJSON(b); err != nil {
			return err
		}
		if !back.LabelTS.Equal(r.LabelTS) || (r.Label == nil) != r.LabelTS.IsZero() {
			t.Fatalf("label %v, label_ts %v, decoded %v: %s", r.Label, r.LabelTS, back.LabelTS, b)
		}
		if r.Label == nil && !strings.Contains(string(b), `"label":null,"label_ts":null`) {
			t.Fatalf("unlabelled record: %s", b)
		}
		if r.Label != nil {
			seen++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if seen == 0 {
		t.Fatal("no labelled record")
	}
}
