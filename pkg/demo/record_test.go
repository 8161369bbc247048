package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wireRecord is the DESIGN §6 record, decoded strictly.
type wireRecord struct {
	TS         string         `json:"ts"`
	Model      string         `json:"model"`
	Version    string         `json:"version"`
	LatencyMs  *float64       `json:"latency_ms"`
	Status     string         `json:"status"`
	Prediction any            `json:"prediction"`
	Score      *float64       `json:"score"`
	Label      any            `json:"label"`
	LabelTS    *string        `json:"label_ts"`
	Features   map[string]any `json:"features"`
}

func decodeStrict(t *testing.T, line []byte) wireRecord {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var w wireRecord
	if err := dec.Decode(&w); err != nil {
		t.Fatalf("decoding %s: %v", line, err)
	}
	return w
}

func TestAppendFloatMatchesEncodingJSON(t *testing.T) {
	for _, v := range []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 43.48, 123456789.125, 1e-6, 9.99e-7, 1e-7, 1.5e-9, 1e20, 1e21, 1.2345e22,
		5e-324, math.MaxFloat64, -2.5e-8, 0.9989513345777352} {
		want, _ := json.Marshal(v)
		if got := appendFloat(nil, v); string(got) != string(want) {
			t.Errorf("appendFloat(%v) = %s, encoding/json gives %s", v, got, want)
		}
	}
	for _, v := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		if got := string(appendFloat(nil, v)); got != "null" {
			t.Errorf("appendFloat(%v) = %s, want null", v, got)
		}
	}
}

func TestAppendStringMatchesEncodingJSON(t *testing.T) {
	for _, s := range []string{"", "fraud-detector", `quote " backslash \ `, "tab\tnewline\n", "<html>&", "ünïcode ✓", "\x00\x1f", "\u2028"} {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

func TestRecordJSON(t *testing.T) {
	score := 0.25
	r := Record{
		TS: time.Date(2026, 3, 10, 12, 0, 0, 5, time.FixedZone("X", 3600)), Model: "m", Version: "v1", LatencyMs: math.NaN(),
		Status: StatusOK, Prediction: "fraud", Score: &score, Label: nil,
		Features: map[string]any{"b": 1.5, "a": "x", "c": nil, "d": int64(3), "e": json.Number("2.5")},
	}
	got, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"ts":"2026-03-10T11:00:00.000000005Z","model":"m","version":"v1","latency_ms":null,"status":"ok","prediction":"fraud","score":0.25,"label":null,"label_ts":null,"features":{"a":"x","b":1.5,"c":null,"d":3,"e":2.5}}`
	if string(got) != want {
		t.Errorf("JSON\n got %s\nwant %s", got, want)
	}
	var back Record
	if err := json.Unmarshal(got, &back); err != nil {
		t.Fatal(err)
	}
	if !back.TS.Equal(r.TS) || !math.IsNaN(back.LatencyMs) || back.Prediction != "fraud" || *back.Score != 0.25 || back.Label != nil ||
		back.Features["b"] != 1.5 || back.Features["c"] != nil {
		t.Errorf("round trip: %+v", back)
	}
	r.Prediction = []int{1}
	if _, err := json.Marshal(r); err == nil || !strings.Contains(err.Error(), "unsupported value") {
		t.Errorf("unsupported prediction type: %v", err)
	}
	r.Prediction = nil
	r.Features = map[string]any{"x": json.Number("abc")}
	if _, err := json.Marshal(r); err == nil {
		t.Error("an invalid json.Number encoded")
	}
	if err := back.UnmarshalJSON([]byte(`{"ts":"yesterday"}`)); err == nil {
		t.Error("a bad ts decoded")
	}
	if err := back.UnmarshalJSON([]byte(`{"ts":`)); err == nil {
		t.Error("truncated JSON decoded")
	}
}

// TestRowJSONMatchesRecord checks that the server's fast encoder writes, for generated records,
// the same JSON values as Record.MarshalJSON, in the DESIGN §6 shape.
func TestRowJSONMatchesRecord(t *testing.T) {
	f := NewFleet(DefaultSeed)
	for _, m := range specs {
		enc := newRowJSON(m)
		n, nulls, errs := 0, 0, 0
		// 16:30–16:45 holds the churn-classifier burst, so error records are included.
		err := f.eachRow(context.Background(), m, -1, at(16, 29), at(16, 35), func(x *row) error {
			line := enc.append(nil, x)
			if line[len(line)-1] != '\n' || bytes.Count(line, []byte("\n")) != 1 {
				t.Fatalf("line %q is not one NDJSON line", line)
			}
			fast := decodeStrict(t, line)
			rec, err := json.Marshal(m.record(x))
			if err != nil {
				return err
			}
			slow := decodeStrict(t, rec)
			if !reflect.DeepEqual(fast, slow) {
				t.Fatalf("fast encoder\n%s\nRecord.MarshalJSON\n%s", line, rec)
			}
			ts, err := time.Parse(time.RFC3339Nano, fast.TS)
			if err != nil || ts.UnixNano() != x.ts || !strings.HasSuffix(fast.TS, "Z") {
				t.Fatalf("ts %q (%v) for %d", fast.TS, err, x.ts)
			}
			if fast.Status != StatusOK && fast.Status != StatusError || fast.LatencyMs == nil || len(fast.Features) != len(m.features) {
				t.Fatalf("record %s", line)
			}
			if fast.Status == StatusError {
				errs++
				if fast.Prediction != nil || fast.Score != nil {
					t.Fatalf("error record with outputs: %s", line)
				}
			}
			for _, v := range fast.Features {
				if v == nil {
					nulls++
				}
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n < 500 || nulls == 0 || errs == 0 {
			t.Errorf("%s: %d records, %d null features, %d errors; want some of each", m.name, n, nulls, errs)
		}
	}
}
