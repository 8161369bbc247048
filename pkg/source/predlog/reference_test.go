package predlog

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

func TestReferenceRecordsNeedNoTS(t *testing.T) {
	in := `{"model":"churn","version":"v1","features":{"age":30,"plan":"basic"}}
{"version":"v2","features":{"age":40,"plan":"premium"}}
{"features":{"age":50}}
`
	if _, err := decodeNDJSON(strings.NewReader(in), decodeOptions{model: &churnModel}); err == nil || !strings.Contains(err.Error(), `record has no "ts"`) {
		t.Fatalf("records: err = %v, want the missing ts named", err)
	}
	b, err := decodeNDJSON(strings.NewReader(in), decodeOptions{model: &churnModel, reference: true})
	if err != nil {
		t.Fatal(err)
	}
	eqFloats(t, "age", b.Features["age"].Num, []float64{30, 40, 50})
	// With a version, rows of other versions are ignored; rows without one are the version's.
	b, err = decodeNDJSON(strings.NewReader(in), decodeOptions{model: &churnModel, reference: true, version: "v1"})
	if err != nil {
		t.Fatal(err)
	}
	eqFloats(t, "age v1", b.Features["age"].Num, []float64{30, 50})
}

func TestLabelTS(t *testing.T) {
	in := `{"ts":"2026-11-01T10:00:01Z","label_ts":"2026-11-01T12:00:01Z","features":{}}
{"ts":"2026-11-01T10:00:02Z","label_ts":null,"features":{}}
{"ts":"2026-11-01T10:00:00Z","features":{}}
`
	b, err := decodeNDJSON(strings.NewReader(in), decodeOptions{model: &churnModel})
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by ts, label times follow their records.
	want := []int64{source.NoTime, time.Date(2026, 11, 1, 12, 0, 1, 0, time.UTC).UnixNano(), source.NoTime}
	if !slices.Equal(b.LabelTS, want) {
		t.Errorf("LabelTS = %v, want %v", b.LabelTS, want)
	}
	if _, err := decodeNDJSON(strings.NewReader(`{"ts":"2026-11-01T10:00:00Z","label_ts":"yesterday"}`), decodeOptions{model: &churnModel}); err == nil || !strings.Contains(err.Error(), `"label_ts"`) {
		t.Errorf("bad label_ts: %v", err)
	}
}

// referenceBody is n reference rows: age = i, plan = a category of its own per row (the worst case
// for dictionaries).
func referenceBody(n int) string {
	var sb strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, `{"version":"v%d","features":{"age":%d,"plan":"p%d"}}`+"\n", i%1000, i, i)
	}
	return sb.String()
}

func TestReferenceSample(t *testing.T) {
	const n, size = 20000, 500
	body := referenceBody(n)
	read := func() *source.Batch {
		b, err := decodeNDJSON(strings.NewReader(body), decodeOptions{model: &churnModel, reference: true, sample: size})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := read()
	if b.Len() != size || b.SampledFrom != n {
		t.Fatalf("len %d SampledFrom %d, want %d of %d", b.Len(), b.SampledFrom, size, n)
	}
	// Deterministic: the same stream gives the same sample.
	if !slices.Equal(read().Features["age"].Num, b.Features["age"].Num) {
		t.Error("two reads gave different samples")
	}
	// Rows stay whole: plan p<i> and version v<i mod 1000> belong to age i.
	plan := b.Features["plan"]
	for i, age := range b.Features["age"].Num {
		if got := plan.Dict[plan.Cat[i]]; got != fmt.Sprintf("p%d", int(age)) {
			t.Fatalf("row %d: age %v with plan %s", i, age, got)
		}
		if got := b.Versions[b.Version[i]]; got != fmt.Sprintf("v%d", int(age)%1000) {
			t.Fatalf("row %d: age %v with version %s", i, age, got)
		}
	}
	// Dictionaries follow the sample, not the stream.
	if len(plan.Dict) > 2*size+64 || len(b.Versions) > 2*size+64 {
		t.Errorf("dictionaries of %d categories and %d versions for a sample of %d", len(plan.Dict), len(b.Versions), size)
	}
	// Uniform: the mean of the sampled ages is that of 0..n-1 within sampling error (sd of
	// the mean ≈ n/sqrt(12·size) ≈ 258; 4 sd).
	var sum float64
	for _, a := range b.Features["age"].Num {
		sum += a
	}
	if mean := sum / size; math.Abs(mean-(n-1)/2.0) > 4*n/math.Sqrt(12*size) {
		t.Errorf("sample mean %v, want %v", mean, (n-1)/2.0)
	}
	// Below the cap nothing is sampled.
	small, _ := decodeNDJSON(strings.NewReader(referenceBody(size)), decodeOptions{model: &churnModel, reference: true, sample: size})
	if small.Len() != size || small.SampledFrom != 0 {
		t.Errorf("at the cap: len %d SampledFrom %d", small.Len(), small.SampledFrom)
	}
}
