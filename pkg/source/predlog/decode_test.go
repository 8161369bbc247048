package predlog

import (
	"bytes"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

var churnModel = source.Model{
	Name:     "churn",
	Versions: []string{"v1", "v2"},
	Features: []source.Feature{
		{Name: "age", Type: source.Numeric},
		{Name: "monthly_spend", Type: source.Numeric},
		{Name: "plan", Type: source.Categorical},
		{Name: "region", Type: source.Categorical},
	},
	Prediction: source.Output{Type: source.Categorical},
}

func ts(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

// cats renders a categorical column as strings ("<null>" for null).
func cats(c *source.Column) []string {
	out := make([]string, len(c.Cat))
	for i, k := range c.Cat {
		if k < 0 {
			out[i] = "<null>"
		} else {
			out[i] = c.Dict[k]
		}
	}
	return out
}

// sameFloats compares exactly, NaN equal to NaN.
func sameFloats(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] && !(math.IsNaN(a[i]) && math.IsNaN(b[i])) {
			return false
		}
		if a[i] == 0 && b[i] == 0 && math.Signbit(a[i]) != math.Signbit(b[i]) {
			return false
		}
	}
	return true
}

func eqStrings(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") || len(got) != len(want) {
		t.Errorf("%s = %q, want %q", what, got, want)
	}
}

func eqFloats(t *testing.T, what string, got, want []float64) {
	t.Helper()
	if !sameFloats(got, want) {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}

func decodeFile(t *testing.T, name string, opt decodeOptions) (*source.Batch, error) {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return decodeNDJSON(bytes.NewReader(raw), opt)
}

func TestDecodeRecordsFixture(t *testing.T) {
	b, err := decodeFile(t, "records_churn.ndjson", decodeOptions{model: &churnModel})
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	if b.Len() != 4 || b.Model != "churn" || b.Truncated {
		t.Fatalf("len %d model %q truncated %v", b.Len(), b.Model, b.Truncated)
	}
	wantTS := []int64{ts("2026-11-01T10:00:01Z"), ts("2026-11-01T10:00:02.25Z"), ts("2026-11-01T10:00:03.000000123Z"), ts("2026-11-01T10:00:04Z")}
	for i := range wantTS {
		if b.TS[i] != wantTS[i] {
			t.Errorf("TS[%d] = %d, want %d", i, b.TS[i], wantTS[i])
		}
	}
	eqStrings(t, "Versions", b.Versions, []string{"v1", "v2"})
	for i, want := range []int32{0, 1, 0, 1} {
		if b.Version[i] != want {
			t.Errorf("Version[%d] = %d, want %d", i, b.Version[i], want)
		}
	}
	if len(b.Error) != 4 || b.Error[0] || !b.Error[1] || b.Error[2] || b.Error[3] {
		t.Errorf("Error = %v", b.Error)
	}
	// "17.25" is a numeric string; 1e1 = 10.
	eqFloats(t, "LatencyMs", b.LatencyMs, []float64{12.5, 8, 17.25, 10})
	eqFloats(t, "Score", b.Score, []float64{0.12, nan, 0.91, 0.42})
	eqStrings(t, "Prediction", cats(b.Prediction), []string{"stay", "<null>", "churn", "stay"})
	eqStrings(t, "Label", cats(b.Label), []string{"stay", "<null>", "<null>", "<null>"})
	eqStrings(t, "FeatureNames", b.FeatureNames, []string{"age", "monthly_spend", "plan", "region"})
	// "51" is a number given as a string; -0.5e2 = -50; null, missing, "n/a" and 1e999 (±Inf) are null.
	eqFloats(t, "age", b.Features["age"].Num, []float64{34, nan, 51, -50})
	eqFloats(t, "monthly_spend", b.Features["monthly_spend"].Num, []float64{49.99, nan, nan, nan})
	// A number given for a categorical feature is its literal text; escapes are decoded.
	eqStrings(t, "plan", cats(b.Features["plan"]), []string{"basic", "<null>", "premium", "3"})
	eqStrings(t, "region", cats(b.Features["region"]), []string{"eu-west", "eu-west", "us-east", "éu-west"})
	// Interning: one dictionary entry per distinct value.
	eqStrings(t, "region dict", b.Features["region"].Dict, []string{"eu-west", "us-east", "éu-west"})
	if _, ok := b.Features["shoe_size"]; ok {
		t.Error("an undeclared feature became a column")
	}
	for name, c := range b.Features {
		if c.Len() != b.Len() {
			t.Errorf("column %s has %d values for %d records", name, c.Len(), b.Len())
		}
	}
}

func TestDecodeLimitAndWindow(t *testing.T) {
	var buf bytes.Buffer
	// Ten records at seconds 1..10; record 7 has the only "gold" plan, record 2 the only "v9".
	for i := 1; i <= 10; i++ {
		plan, version := "basic", "v1"
		if i == 7 {
			plan = "gold"
		}
		if i == 2 {
			version = "v9"
		}
		buf.WriteString(`{"ts":"2026-11-01T10:00:` + pad2(i) + `Z","model":"churn","version":"` + version + `","features":{"plan":"` + plan + `"}}` + "\n")
	}
	data := buf.Bytes()
	base := ts("2026-11-01T10:00:00Z")
	sec := int64(time.Second)

	cases := []struct {
		name      string
		opt       decodeOptions
		wantSecs  []int64
		truncated bool
		wantDict  []string
		versions  []string
	}{
		{"no limit", decodeOptions{}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false, []string{"basic", "gold"}, []string{"v1", "v9"}},
		{"limit bites", decodeOptions{limit: 6}, []int64{1, 2, 3, 4, 5, 6}, true, []string{"basic"}, []string{"v1", "v9"}},
		// The 7th record exceeds the limit: its new category must not stay in the dictionary.
		{"limit of exactly all", decodeOptions{limit: 10}, []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, false, []string{"basic", "gold"}, []string{"v1", "v9"}},
		{"window start < ts <= end", decodeOptions{window: true, start: base + 3*sec, end: base + 6*sec}, []int64{4, 5, 6}, false, []string{"basic"}, []string{"v1"}},
		{"version filter", decodeOptions{version: "v1", limit: 3}, []int64{1, 3, 4}, true, []string{"basic"}, []string{"v1"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.model = &churnModel
			b, err := decodeNDJSON(bytes.NewReader(data), tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			var secs []int64
			for _, v := range b.TS {
				secs = append(secs, (v-base)/sec)
			}
			if len(secs) != len(tc.wantSecs) {
				t.Fatalf("kept seconds %v, want %v", secs, tc.wantSecs)
			}
			for i := range secs {
				if secs[i] != tc.wantSecs[i] {
					t.Fatalf("kept seconds %v, want %v", secs, tc.wantSecs)
				}
			}
			if b.Truncated != tc.truncated {
				t.Errorf("Truncated = %v, want %v", b.Truncated, tc.truncated)
			}
			eqStrings(t, "plan dict", b.Features["plan"].Dict, tc.wantDict)
			eqStrings(t, "versions", b.Versions, tc.versions)
		})
	}
}

func pad2(i int) string {
	if i < 10 {
		return "0" + strconv.Itoa(i)
	}
	return strconv.Itoa(i)
}

func TestDecodeStopsReadingAtLimit(t *testing.T) {
	// A server that ignores the limit: the decoder must not read the whole body.
	data := genRecords(20000, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), 3)
	r := &countingReader{r: bytes.NewReader(data)}
	b, err := decodeNDJSON(r, decodeOptions{model: &benchModel, limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if b.Len() != 10 || !b.Truncated {
		t.Fatalf("len %d truncated %v", b.Len(), b.Truncated)
	}
	if r.n > 512<<10 {
		t.Errorf("read %d of %d bytes for 11 records", r.n, len(data))
	}
}

type countingReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}

func TestDecodeOutOfOrderIsSorted(t *testing.T) {
	in := `{"ts":"2026-11-01T10:00:03Z","latency_ms":3,"features":{"plan":"c","age":3}}
{"ts":"2026-11-01T10:00:01Z","latency_ms":1,"features":{"plan":"a","age":1}}
{"ts":"2026-11-01T10:00:02Z","latency_ms":2,"status":"error","features":{"plan":"b","age":2}}
`
	b, err := decodeNDJSON(strings.NewReader(in), decodeOptions{model: &churnModel})
	if err != nil {
		t.Fatal(err)
	}
	for i := 1; i < b.Len(); i++ {
		if b.TS[i] < b.TS[i-1] {
			t.Fatalf("not ascending: %v", b.TS)
		}
	}
	eqFloats(t, "latency", b.LatencyMs, []float64{1, 2, 3})
	eqFloats(t, "age", b.Features["age"].Num, []float64{1, 2, 3})
	eqStrings(t, "plan", cats(b.Features["plan"]), []string{"a", "b", "c"})
	if b.Error[0] || !b.Error[1] || b.Error[2] {
		t.Errorf("Error = %v", b.Error)
	}
}

func TestDecodeErrors(t *testing.T) {
	good := `{"ts":"2026-11-01T10:00:01Z","model":"churn","features":{"age":1}}` + "\n"
	cases := []struct {
		name, body string
		line       int
		contains   string
	}{
		{"truncated line", good + `{"ts":"2026-11-01T10:00:02Z","model":"churn","features":{"age":`, 2, "truncated"},
		{"garbage", good + good + "<html>oops</html>\n", 3, "must be a JSON object"},
		{"other model", good + `{"ts":"2026-11-01T10:00:02Z","model":"fraud"}` + "\n", 2, `record of model "fraud"`},
		{"missing ts", `{"model":"churn"}`, 1, `no "ts"`},
		{"bad ts", `{"ts":"yesterday"}`, 1, "RFC 3339"},
		{"numeric ts", `{"ts":1730455201}`, 1, "RFC 3339"},
		{"ts out of range", `{"ts":"2300-01-01T00:00:00Z"}`, 1, "out of range"},
		{"trailing data", `{"ts":"2026-11-01T10:00:01Z"} {}`, 1, "after the record"},
		{"bad number", `{"ts":"2026-11-01T10:00:01Z","latency_ms":01}`, 1, "expected ',' or '}'"},
		{"bad literal", `{"ts":"2026-11-01T10:00:01Z","score":nul}`, 1, "invalid literal"},
		{"control char", "{\"ts\":\"2026-11-01T10:00:01Z\",\"version\":\"a\x01\"}", 1, "control character"},
		{"bad escape", `{"ts":"2026-11-01T10:00:01Z","version":"\x"}`, 1, "escape"},
		{"features not object", `{"ts":"2026-11-01T10:00:01Z","features":[1,2]}`, 1, "must be an object"},
		{"deep nesting", `{"ts":"2026-11-01T10:00:01Z","extra":` + strings.Repeat("[", 300) + strings.Repeat("]", 300) + `}`, 1, "too deep"},
		{"model not a string", `{"ts":"2026-11-01T10:00:01Z","model":7}`, 1, "must be a string"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeNDJSON(strings.NewReader(tc.body), decodeOptions{model: &churnModel})
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("err = %v, want a LineError", err)
			}
			if le.Line != tc.line {
				t.Errorf("line = %d, want %d (%v)", le.Line, tc.line, err)
			}
			if !strings.Contains(err.Error(), tc.contains) {
				t.Errorf("err = %q, want it to contain %q", err, tc.contains)
			}
		})
	}
}

func TestDecodeFixtureErrors(t *testing.T) {
	_, err := decodeFile(t, "truncated.ndjson", decodeOptions{model: &churnModel})
	if err == nil || !strings.Contains(err.Error(), "line 2:") || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated.ndjson: err = %v", err)
	}
	_, err = decodeFile(t, "garbage.ndjson", decodeOptions{model: &churnModel})
	if err == nil || !strings.Contains(err.Error(), "line 3:") {
		t.Errorf("garbage.ndjson: err = %v", err)
	}
}

func TestDecodeLongLines(t *testing.T) {
	// A line longer than the read buffer is reassembled; one beyond maxLineBytes is refused.
	pad := strings.Repeat("x", 600<<10)
	in := `{"ts":"2026-11-01T10:00:01Z","note":"` + pad + `","features":{"age":7}}` + "\n"
	b, err := decodeNDJSON(strings.NewReader(in+in), decodeOptions{model: &churnModel})
	if err != nil {
		t.Fatal(err)
	}
	eqFloats(t, "age", b.Features["age"].Num, []float64{7, 7})
	huge := `{"ts":"2026-11-01T10:00:01Z","note":"` + strings.Repeat("y", maxLineBytes) + `"}`
	_, err = decodeNDJSON(strings.NewReader(huge), decodeOptions{model: &churnModel})
	if err == nil || !strings.Contains(err.Error(), "longer than") {
		t.Errorf("err = %v", err)
	}
}

func TestDecodeNumericPrediction(t *testing.T) {
	m := source.Model{Name: "fraud", Features: []source.Feature{{Name: "merchant", Type: source.Categorical}}, Prediction: source.Output{Type: source.Numeric}}
	in := `{"ts":"2026-11-01T10:00:01Z","prediction":0.25,"label":1,"features":{"merchant":true}}
{"ts":"2026-11-01T10:00:02Z","prediction":"0.5","label":"fraud","features":{"merchant":false}}
{"ts":"2026-11-01T10:00:03Z","prediction":{"p":1},"label":[1],"features":{"merchant":{"id":3}}}
`
	b, err := decodeNDJSON(strings.NewReader(in), decodeOptions{model: &m})
	if err != nil {
		t.Fatal(err)
	}
	nan := math.NaN()
	if b.Prediction.Kind != source.Numeric || b.Label.Kind != source.Numeric {
		t.Fatalf("kinds %v %v", b.Prediction.Kind, b.Label.Kind)
	}
	eqFloats(t, "prediction", b.Prediction.Num, []float64{0.25, 0.5, nan})
	eqFloats(t, "label", b.Label.Num, []float64{1, nan, nan})
	eqStrings(t, "merchant", cats(b.Features["merchant"]), []string{"true", "false", "<null>"})
}

func TestDecodeEmptyAndBlank(t *testing.T) {
	for _, in := range []string{"", "\n\n", "  \r\n\t\n"} {
		b, err := decodeNDJSON(strings.NewReader(in), decodeOptions{model: &churnModel})
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		if b.Len() != 0 || len(b.Features) != 4 || b.Prediction == nil || b.Label == nil {
			t.Errorf("%q: unexpected batch %+v", in, b)
		}
	}
}

// TestParseFloatMatchesStrconv checks the fast number path against strconv.ParseFloat on seeded
// random decimals of every shape the fast path takes or declines.
func TestParseFloatMatchesStrconv(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	fixed := []string{"0", "-0", "1", "-1", "0.1", "0.3", "123456789012345", "1234567890123456", "12345678901234567890",
		"9007199254740993", "9007199254740992", "0.9007199254740993", "900719925474099.2e-7", "1e22", "1e23", "1e-22", "1e-23", "4.2E-1", "-0.5e2", "0.000001", "1.7976931348623157e308",
		"5e-324", "1e-400", "1e400", "100000000000000000000000", "0.1000000000000000055511151231257827",
		"2.2250738585072011e-308", "00012", "+5", ".5", "5.", "Inf", "-inf", "NaN", "1e", "1e+", "-", ".", "", "1_0", "0x10", "0x1p4"}
	for i := 0; i < 20000; i++ {
		var s string
		switch i % 5 {
		case 4:
			s = strconv.FormatFloat(r.Float64(), 'g', -1, 64) // 16-17 digits, as Python's repr
		case 0:
			s = strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(40)-20)), 'g', -1, 64)
		case 1:
			s = strconv.FormatFloat(r.Float64()*1000, 'f', r.IntN(8), 64)
		case 2:
			s = strconv.FormatInt(r.Int64N(1<<62)-1<<61, 10)
		default:
			s = strconv.FormatFloat(r.ExpFloat64(), 'e', r.IntN(17), 64)
		}
		fixed = append(fixed, s)
	}
	for _, s := range fixed {
		want, werr := strconv.ParseFloat(s, 64)
		wantOK := werr == nil || errors.Is(werr, strconv.ErrRange)
		got, ok := parseFloat([]byte(s))
		if ok != wantOK || (ok && !sameFloats([]float64{got}, []float64{want})) {
			t.Errorf("parseFloat(%q) = %v, %v; strconv gives %v, %v", s, got, ok, want, werr)
		}
		// The JSON-token path must agree on everything that is a JSON number.
		sc := scanner{b: []byte(s)}
		if v, tok, err := sc.float(); err == nil && sc.i == len(s) {
			if string(tok) != s || !sameFloats([]float64{v}, []float64{want}) {
				t.Errorf("scanner.float(%q) = %v, %q; strconv gives %v", s, v, tok, want)
			}
		}
	}
}

// TestParseTimestampMatchesTime checks the hand-written RFC 3339 parser against time.Parse.
func TestParseTimestampMatchesTime(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	in := []string{"2026-11-01T10:00:01Z", "2024-02-29T23:59:59.999999999Z", "2023-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
		"2026-11-01T24:00:00Z", "2026-11-01T10:00:60Z", "2026-11-01T10:00:01+05:30", "2026-11-01T10:00:01-08:00",
		"2026-11-01T10:00:01.1234567891Z", "2026-11-01T10:00:01.Z", "2026-11-01t10:00:01z", "2026-11-01 10:00:01Z",
		"1900-01-01T00:00:00Z", "1899-12-31T23:59:59Z", "2199-12-31T23:59:59Z", "2200-01-01T00:00:00Z",
		"1970-01-01T00:00:00Z", "2026-11-01T10:00:01+24:00", "2026-11-01T10:00:01+05:60", "2026-11-01T10:00:01", "2026-11-01"}
	for i := 0; i < 5000; i++ {
		sec := r.Int64N(300*365*86400) - 70*365*86400
		tm := time.Unix(sec, r.Int64N(1e9)).In(time.FixedZone("", (r.IntN(48)-24)*1800))
		layout := time.RFC3339Nano
		if i%3 == 0 {
			layout = time.RFC3339
		}
		in = append(in, tm.Format(layout))
	}
	for _, s := range in {
		want, werr := time.Parse(time.RFC3339Nano, s)
		got, gerr := parseTimestamp([]byte(s))
		if werr != nil {
			if gerr == nil {
				t.Errorf("parseTimestamp(%q) accepted what time.Parse rejects (%v)", s, werr)
			}
			continue
		}
		if y := want.Year(); y < minYear || y > maxYear {
			if gerr == nil {
				t.Errorf("parseTimestamp(%q) accepted an out-of-range year", s)
			}
			continue
		}
		if gerr != nil || got != want.UnixNano() {
			t.Errorf("parseTimestamp(%q) = %d, %v; want %d", s, got, gerr, want.UnixNano())
		}
	}
}

func TestDecodeManyCategoriesAndSizeHint(t *testing.T) {
	// 30 distinct plans (past the linear-scan dictionary), one only in a record outside the window.
	var buf bytes.Buffer
	var want []string
	for i := 1; i <= 60; i++ {
		plan := "p" + strconv.Itoa(i%30)
		if i == 60 {
			plan = "outside"
		}
		sec := i
		if i == 60 {
			sec = 0 // before the window
		}
		buf.WriteString(`{"ts":"2026-11-01T10:` + pad2(sec/60) + `:` + pad2(sec%60) + `Z","features":{"plan":"` + plan + `"}}` + "\n")
		if i < 60 {
			want = append(want, plan)
		}
	}
	base := ts("2026-11-01T10:00:00Z")
	for _, hint := range []int64{0, int64(buf.Len()), 1 << 40} {
		b, err := decodeNDJSON(bytes.NewReader(buf.Bytes()), decodeOptions{model: &churnModel, window: true, start: base, end: base + int64(time.Hour), sizeHint: hint})
		if err != nil {
			t.Fatal(err)
		}
		eqStrings(t, "plan", cats(b.Features["plan"]), want)
		if len(b.Features["plan"].Dict) != 30 {
			t.Errorf("hint %d: dictionary has %d entries, want 30 (the dropped record's category rolled back)", hint, len(b.Features["plan"].Dict))
		}
	}
	// The interned dictionary keeps working with source.Column.Code afterwards (record 7 holds
	// p7: the out-of-window record sorts first).
	b, _ := decodeNDJSON(bytes.NewReader(buf.Bytes()), decodeOptions{model: &churnModel})
	c := b.Features["plan"]
	if code, err := c.Code("p7"); err != nil || c.Dict[code] != "p7" || code != c.Cat[7] {
		t.Errorf("Code(p7) = %d, %v", code, err)
	}
}

// TestDecodeTypeMismatch: a value of the wrong JSON type is counted per record in the feature's
// Mismatch mask (a string or boolean for a numeric feature, a number for a categorical one, an
// object or array for either), whatever it is read as, and the mask follows the records when the
// batch is sorted.
func TestDecodeTypeMismatch(t *testing.T) {
	m := &source.Model{Name: "m", Features: []source.Feature{{Name: "x", Type: source.Numeric}, {Name: "c", Type: source.Categorical}},
		Prediction: source.Output{Type: source.Numeric}}
	body := strings.Join([]string{
		`{"ts":"2026-11-01T10:00:05Z","features":{"x":1.5,"c":"a"}}`,
		`{"ts":"2026-11-01T10:00:01Z","features":{"x":"2.5","c":7}}`,
		`{"ts":"2026-11-01T10:00:02Z","features":{"x":"n/a","c":true}}`,
		`{"ts":"2026-11-01T10:00:03Z","features":{"x":true,"c":{"k":1}}}`,
		`{"ts":"2026-11-01T10:00:04Z","features":{"x":null,"c":null}}`,
		`{"ts":"2026-11-01T10:00:06Z","features":{"x":[1],"c":"b"}}`,
	}, "\n")
	b, err := decodeNDJSON(strings.NewReader(body), decodeOptions{model: m})
	if err != nil {
		t.Fatal(err)
	}
	// Sorted by ts: 01, 02, 03, 04, 05, 06.
	x, c := b.Features["x"], b.Features["c"]
	wantX := []bool{true, true, true, false, false, true}
	wantC := []bool{true, false, true, false, false, false}
	for i := range wantX {
		if x.MismatchAt(i) != wantX[i] || c.MismatchAt(i) != wantC[i] {
			t.Errorf("record %d: mismatch x=%v c=%v, want %v %v", i, x.MismatchAt(i), c.MismatchAt(i), wantX[i], wantC[i])
		}
	}
	// A numeric string is still read as its number; a non-numeric one is null.
	if x.Num[0] != 2.5 || !math.IsNaN(x.Num[1]) {
		t.Errorf("x = %v", x.Num)
	}
	clean, err := decodeNDJSON(strings.NewReader(`{"ts":"2026-11-01T10:00:05Z","features":{"x":1.5,"c":"a"}}`), decodeOptions{model: m})
	if err != nil {
		t.Fatal(err)
	}
	if clean.Features["x"].Mismatch != nil || clean.Features["c"].Mismatch != nil {
		t.Error("a batch without mismatches must not allocate a mask")
	}
}
