package predlog

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// refRecord is one record as decoded by refDecode.
type refRecord struct {
	ts      int64
	version string
	isError bool
	nums    map[string]float64 // numeric variables, NaN for null
	cats    map[string]string  // categorical variables, "<null>" for null
	// bad names the features whose value had the wrong JSON type (source.Column.Mismatch).
	bad map[string]bool
}

// refDecode is a slow, independent decoder of the same format built on encoding/json; the fuzz
// test checks that the fast decoder agrees with it. ok is false when it rejects the input;
// comparable is false when the input has duplicate keys (encoding/json keeps the last value and
// cannot see the earlier ones, which the streaming decoder validates).
func refDecode(data []byte, m *source.Model, opt decodeOptions) (recs []refRecord, truncated, ok, comparable bool) {
	comparable = true
	for _, line := range bytes.Split(data, []byte("\n")) {
		if len(bytes.Trim(line, " \t\r\n")) == 0 { // JSON whitespace only
			continue
		}
		if !json.Valid(line) {
			return nil, false, false, comparable
		}
		if dup, depth := structure(line); dup || depth > maxDepth-8 {
			comparable = false
		}
		dec := json.NewDecoder(bytes.NewReader(line))
		dec.UseNumber()
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil || obj == nil {
			return nil, false, false, comparable
		}
		r := refRecord{nums: map[string]float64{}, cats: map[string]string{}, bad: map[string]bool{}}
		tsv, has := obj["ts"].(string)
		if !has {
			return nil, false, false, comparable
		}
		t, err := time.Parse(time.RFC3339Nano, tsv)
		if err != nil || t.Year() < minYear || t.Year() > maxYear {
			return nil, false, false, comparable
		}
		r.ts = t.UnixNano()
		switch v := obj["model"].(type) {
		case nil:
		case string:
			if v != m.Name {
				return nil, false, false, comparable
			}
		default:
			return nil, false, false, comparable
		}
		switch v := obj["version"].(type) {
		case nil:
		case string:
			r.version = v
		case json.Number:
			r.version = string(v)
		default:
			return nil, false, false, comparable
		}
		if s, ok := obj["status"].(string); ok {
			r.isError = strings.EqualFold(s, "error")
		}
		predKind := kindOf(m.Prediction.Type)
		set := func(name string, kind source.Kind, v any) {
			if kind == source.Categorical {
				switch x := v.(type) {
				case string:
					r.cats[name] = x
				case json.Number:
					r.cats[name] = string(x)
				case bool:
					r.cats[name] = strconv.FormatBool(x)
				default:
					r.cats[name] = "<null>"
				}
				return
			}
			f := math.NaN()
			var s string
			switch x := v.(type) {
			case string:
				s = x
			case json.Number:
				s = string(x)
			}
			if s != "" {
				if g, err := strconv.ParseFloat(s, 64); err == nil || errors.Is(err, strconv.ErrRange) {
					f = g
				}
			}
			if math.IsInf(f, 0) {
				f = math.NaN()
			}
			r.nums[name] = f
		}
		set("latency_ms", source.Numeric, obj["latency_ms"])
		set("score", source.Numeric, obj["score"])
		set("prediction", predKind, obj["prediction"])
		set("label", predKind, obj["label"])
		feats := map[string]any{}
		switch v := obj["features"].(type) {
		case nil:
		case map[string]any:
			feats = v
		default:
			return nil, false, false, comparable
		}
		for _, f := range m.Features {
			v := feats[f.Name]
			set(f.Name, kindOf(f.Type), v)
			switch v.(type) {
			case nil:
			case string, bool:
				r.bad[f.Name] = kindOf(f.Type) == source.Numeric
			case json.Number:
				r.bad[f.Name] = kindOf(f.Type) == source.Categorical
			default: // object or array
				r.bad[f.Name] = true
			}
		}
		if opt.window && (r.ts <= opt.start || r.ts > opt.end) {
			continue
		}
		if opt.version != "" && r.version != opt.version {
			continue
		}
		if opt.limit > 0 && len(recs) == opt.limit {
			truncated = true
			break
		}
		recs = append(recs, r)
	}
	sort.SliceStable(recs, func(i, j int) bool { return recs[i].ts < recs[j].ts })
	return recs, truncated, true, comparable
}

// structure reports whether any object in a valid JSON line repeats a key, and how deep the line
// nests (the streaming decoder refuses nesting beyond maxDepth; encoding/json allows more).
func structure(line []byte) (dup bool, depth int) {
	dec := json.NewDecoder(bytes.NewReader(line))
	type frame struct {
		obj    bool
		keys   map[string]bool
		expect bool // next string token is a key
	}
	var stack []*frame
	for {
		tok, err := dec.Token()
		if err != nil {
			return false, depth
		}
		var top *frame
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		switch v := tok.(type) {
		case json.Delim:
			switch v {
			case '{':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{obj: true, keys: map[string]bool{}, expect: true})
				depth = max(depth, len(stack))
			case '[':
				if top != nil && top.obj {
					top.expect = true
				}
				stack = append(stack, &frame{})
				depth = max(depth, len(stack))
			default:
				stack = stack[:len(stack)-1]
			}
		case string:
			if top != nil && top.obj && top.expect {
				if top.keys[v] {
					return true, depth
				}
				top.keys[v] = true
				top.expect = false
				continue
			}
			if top != nil && top.obj {
				top.expect = true
			}
		default:
			if top != nil && top.obj {
				top.expect = true
			}
		}
	}
}

// checkBatch verifies the invariants every decoded batch has.
func checkBatch(t *testing.T, b *source.Batch, m *source.Model) {
	n := b.Len()
	if len(b.Version) != n || len(b.Error) != n || len(b.LatencyMs) != n || len(b.Score) != n ||
		b.Prediction.Len() != n || b.Label.Len() != n || len(b.Features) != len(m.Features) {
		t.Fatalf("column lengths differ from %d", n)
	}
	for i := 1; i < n; i++ {
		if b.TS[i] < b.TS[i-1] {
			t.Fatalf("TS not ascending at %d", i)
		}
	}
	for _, v := range b.Version {
		if v < 0 || int(v) >= len(b.Versions) {
			t.Fatalf("version code %d out of range", v)
		}
	}
	cols := []*source.Column{b.Prediction, b.Label}
	for _, f := range m.Features {
		c := b.Features[f.Name]
		if c == nil || c.Len() != n {
			t.Fatalf("feature %s: bad column", f.Name)
		}
		cols = append(cols, c)
	}
	for _, c := range cols {
		for _, k := range c.Cat {
			if k < -1 || int(k) >= len(c.Dict) {
				t.Fatalf("category code %d out of range", k)
			}
		}
		for _, v := range c.Num {
			if math.IsInf(v, 0) {
				t.Fatal("an infinite value was kept")
			}
		}
	}
}

var fuzzModel = source.Model{
	Name: "churn",
	Features: []source.Feature{
		{Name: "age", Type: source.Numeric},
		{Name: "plan", Type: source.Categorical},
		{Name: "x", Type: source.Numeric},
	},
	Prediction: source.Output{Type: source.Categorical},
}

// FuzzDecodeNDJSON feeds arbitrary bodies to the decoder: it must never panic, every batch it
// returns must be well-formed, and on valid UTF-8 without duplicate keys it must agree exactly
// with the encoding/json reference decoder (accepting and rejecting the same inputs).
//
//	go test ./pkg/source/predlog -run '^$' -fuzz FuzzDecodeNDJSON -fuzztime 30s
func FuzzDecodeNDJSON(f *testing.F) {
	for _, s := range []string{
		`{"ts":"2026-11-01T10:00:01Z","model":"churn","version":"v1","latency_ms":12.5,"status":"ok","prediction":"stay","score":0.12,"features":{"age":34,"plan":"basic","x":null}}`,
		`{"ts":"2026-11-01T10:00:02.5+01:00","version":2,"status":"error","prediction":1,"features":{"age":"51","plan":3,"x":"n/a"}}` + "\n" + `{"ts":"2026-11-01T10:00:00Z"}`,
		`{"ts":"2026-11-01T10:00:01Z","features":{"plan":"\u00e9\n"},"extra":[{"a":[1,{}]},true,null]}`,
		`{"ts":"2026-11-01T10:00:01Z","model":"fraud"}`,
		`{"ts":"2026-11-01T10:00:01Z","score":1e999,"latency_ms":-0.0,"label":"x"}`,
		"\n\n{\"ts\":\"2026-11-01T10:00:01Z\"}\r\n",
		`{"ts":"2026-11-01T10:00:01Z","features":{"age":1}`,
		`{"ts":"1677-01-01T00:00:00Z"}`,
		`[1,2,3]`,
	} {
		f.Add([]byte(s))
	}
	base := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC).UnixNano()
	opts := []decodeOptions{
		{model: &fuzzModel},
		{model: &fuzzModel, limit: 2},
		{model: &fuzzModel, window: true, start: base, end: base + int64(2*time.Second), version: "v1"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, opt := range opts {
			b, err := decodeNDJSON(bytes.NewReader(data), opt)
			if err == nil {
				checkBatch(t, b, &fuzzModel)
			}
			if !utf8.Valid(data) {
				continue
			}
			want, truncated, ok, comparable := refDecode(data, &fuzzModel, opt)
			if !comparable {
				continue
			}
			if (err == nil) != ok {
				t.Fatalf("opt %+v: decoder error %v, reference accepts: %v", opt, err, ok)
			}
			if err != nil {
				continue
			}
			compareRef(t, b, want, truncated)
		}
	})
}

func compareRef(t *testing.T, b *source.Batch, want []refRecord, truncated bool) {
	if b.Len() != len(want) || b.Truncated != truncated {
		t.Fatalf("decoded %d records (truncated %v), reference %d (%v)", b.Len(), b.Truncated, len(want), truncated)
	}
	for i, r := range want {
		if b.TS[i] != r.ts || b.Versions[b.Version[i]] != r.version || b.Error[i] != r.isError {
			t.Fatalf("record %d: ts/version/status differ", i)
		}
		cols := map[string]*source.Column{
			"latency_ms": {Kind: source.Numeric, Num: b.LatencyMs},
			"score":      {Kind: source.Numeric, Num: b.Score},
			"prediction": b.Prediction,
			"label":      b.Label,
		}
		for k, c := range b.Features {
			cols[k] = c
		}
		for name, v := range r.nums {
			if got := cols[name].Num[i]; !sameFloats([]float64{got}, []float64{v}) {
				t.Fatalf("record %d %s = %v, reference %v", i, name, got, v)
			}
		}
		for name, c := range b.Features {
			if got := c.MismatchAt(i); got != r.bad[name] {
				t.Fatalf("record %d %s: type mismatch %v, reference %v", i, name, got, r.bad[name])
			}
		}
		for name, v := range r.cats {
			c := cols[name]
			got := "<null>"
			if c.Cat[i] >= 0 {
				got = c.Dict[c.Cat[i]]
			}
			if got != v {
				t.Fatalf("record %d %s = %q, reference %q", i, name, got, v)
			}
		}
	}
}

// FuzzParseNumbers checks the fast number and timestamp parsers against strconv.ParseFloat and
// time.Parse on arbitrary input.
//
//	go test ./pkg/source/predlog -run '^$' -fuzz FuzzParseNumbers -fuzztime 30s
func FuzzParseNumbers(f *testing.F) {
	for _, s := range []string{"0", "-0.0e5", "0.8444218515250481", "9007199254740993", "1e23", "1e-400", ".5", "Inf",
		"2026-11-01T10:00:01.123456789+05:30", "2024-02-29T23:59:59Z", "2026-11-01T10:00:60Z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, werr := strconv.ParseFloat(s, 64)
		got, ok := parseFloat([]byte(s))
		if wantOK := werr == nil || errors.Is(werr, strconv.ErrRange); ok != wantOK || (ok && !sameFloats([]float64{got}, []float64{want})) {
			t.Fatalf("parseFloat(%q) = %v, %v; strconv %v, %v", s, got, ok, want, werr)
		}
		sc := scanner{b: []byte(s)}
		if v, tok, err := sc.float(); err == nil && sc.i == len(s) {
			if werr != nil && !errors.Is(werr, strconv.ErrRange) {
				t.Fatalf("scanner.float accepted %q, strconv rejects it: %v", s, werr)
			}
			if string(tok) != s || !sameFloats([]float64{v}, []float64{want}) {
				t.Fatalf("scanner.float(%q) = %v; strconv %v", s, v, want)
			}
		}
		tw, terr := time.Parse(time.RFC3339Nano, s)
		ns, err := parseTimestamp([]byte(s))
		switch {
		case terr != nil:
			if err == nil {
				t.Fatalf("parseTimestamp(%q) accepted what time.Parse rejects", s)
			}
		case tw.Year() < minYear || tw.Year() > maxYear:
			if err == nil {
				t.Fatalf("parseTimestamp(%q) accepted year %d", s, tw.Year())
			}
		case err != nil || ns != tw.UnixNano():
			t.Fatalf("parseTimestamp(%q) = %d, %v; want %d", s, ns, err, tw.UnixNano())
		}
	})
}
