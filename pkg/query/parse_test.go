package query

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"
)

func TestParseValid(t *testing.T) {
	for _, raw := range []string{
		`{"queryType":"traffic"}`,
		`{"queryType":"traffic","metrics":["rate","count","errors","errorCount","errorRatio"],"window":"5m","output":"latest"}`,
		`{"queryType":"latency","percentiles":[0.1,50,100],"window":"30s","model":"*","version":"*"}`,
		`{"queryType":"drift","methods":["psi","ks","status"],"binning":{"strategy":"equalWidth","bins":20},"output":"table"}`,
		`{"queryType":"drift","reference":{"kind":"window","from":"now-7d","to":"now-6d"},"thresholds":{"psi":{"drift":0.3},"ks_pvalue":{"warning":0.2,"drift":0.01},"tvd":{"warning":0.1,"drift":0.2}}}`,
		`{"queryType":"drift","reference":{"kind":"window","from":"2026-01-01T00:00:00Z","to":"2026-01-02T00:00:00Z"},"window":"1d"}`,
		`{"queryType":"distribution","features":["latency"],"reference":{"kind":"dataset"},"binning":{"bins":2}}`,
		`{"queryType":"predictions","percentiles":[50]}`,
		`{"queryType":"endpoints","output":"table"}`,
		`{"queryType":"health","source":"endpoint","refId":"A","datasource":{"uid":"x"},"intervalMs":1000}`,
	} {
		q, err := Parse(json.RawMessage(raw))
		require.NoError(t, err, raw)
		require.NotEmpty(t, q.QueryType)
	}
}

func TestParseInvalid(t *testing.T) {
	cases := []struct{ raw, want string }{
		{``, "empty query"},
		{`{`, "invalid query JSON"},
		{`[]`, "invalid query JSON"},
		{`{"queryType":"traffic"} {}`, "invalid query JSON"},
		{`{"queryType":"traffic","percentiles":"50"}`, `field "percentiles" must be a list of numbers, not a JSON string`},
		{`{"queryType":"traffic","metrics":"rate"}`, `field "metrics" must be a list of strings, not a JSON string`},
		{`{"queryType":"drift","binning":{"bins":"10"}}`, `field "binning.bins" must be a whole number, not a JSON string`},
		{`{"queryType":"drift","reference":"now-1d"}`, `field "reference" must be an object, not a JSON string`},
		{`[1]`, `invalid query JSON: must be an object, not a JSON array`},
		{`{}`, "queryType is required"},
		{`{"queryType":"nope"}`, `unknown queryType "nope"`},
		{`{"queryType":"traffic","source":"influx"}`, `unknown source "influx"`},
		{`{"queryType":"traffic","output":"graph"}`, `unknown output "graph"`},
		{`{"queryType":"traffic","output":"table"}`, `output "table" does not apply to traffic`},
		{`{"queryType":"endpoints","output":"timeseries"}`, `does not apply to endpoints`},
		{`{"queryType":"traffic","window":"5x"}`, `window "5x"`},
		{`{"queryType":"traffic","window":"-5m"}`, `must be positive`},
		{`{"queryType":"traffic","window":"0s"}`, `must be positive`},
		{`{"queryType":"traffic","window":"1.5d"}`, `window "1.5d"`},
		{`{"queryType":"latency","percentiles":[0]}`, "percentile 0 is outside (0, 100]"},
		{`{"queryType":"latency","percentiles":[101]}`, "percentile 101 is outside (0, 100]"},
		{`{"queryType":"latency","percentiles":[-1]}`, "outside (0, 100]"},
		{`{"queryType":"traffic","metrics":["qps"]}`, `unknown traffic metric "qps"`},
		{`{"queryType":"drift","methods":["psi","emd"]}`, `unknown drift method "emd"`},
		{`{"queryType":"drift","features":[""]}`, "empty name"},
		{`{"queryType":"drift","reference":{"kind":"training"}}`, `unknown reference.kind "training"`},
		{`{"queryType":"drift","reference":{"kind":"window","from":"now-7d"}}`, "needs both reference.from and reference.to"},
		{`{"queryType":"drift","reference":{"kind":"window","from":"yesterday","to":"now"}}`, "reference.from"},
		{`{"queryType":"drift","reference":{"kind":"window","from":"now-1d","to":"now-2d"}}`, "must be before"},
		{`{"queryType":"drift","reference":{"kind":"window","from":"now/d","to":"now-1d/d"}}`, "must be before"},
		{`{"queryType":"latency","percentiles":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33]}`, "33 percentiles asked for; at most 32"},
		{`{"queryType":"drift","thresholds":{"psi":{"warning":-0.1}}}`, "thresholds.psi.warning (-0.1) must be a finite number >= 0"},
		{`{"queryType":"drift","thresholds":{"ks_pvalue":{"drift":1.5}}}`, "thresholds.ks_pvalue.drift (1.5) must be a p-value in [0, 1]"},
		{`{"queryType":"drift","reference":{"kind":"window","from":"now-9999999999d","to":"now"}}`, "more than 9 digits"},
		{`{"queryType":"drift","reference":{"from":"now-1d","to":"now"}}`, "apply only to reference.kind"},
		{`{"queryType":"drift","binning":{"strategy":"kmeans"}}`, `unknown binning.strategy "kmeans"`},
		{`{"queryType":"drift","binning":{"bins":1}}`, "binning.bins 1 is outside [2, 1000]"},
		{`{"queryType":"drift","binning":{"bins":1001}}`, "binning.bins 1001 is outside [2, 1000]"},
		{`{"queryType":"drift","binning":{"bins":-3}}`, "outside [2, 1000]"},
		{`{"queryType":"drift","thresholds":{"emd":{"warning":1,"drift":2}}}`, `thresholds for unknown method "emd"`},
		{`{"queryType":"drift","thresholds":{"status":{"warning":1,"drift":2}}}`, `thresholds for unknown method "status"`},
		{`{"queryType":"drift","thresholds":{"psi":{}}}`, "needs warning, drift or both"},
		{`{"queryType":"drift","thresholds":{"ks":{"warning":0.1}}}`, "needs both warning and drift"},
		{`{"queryType":"drift","thresholds":{"psi":{"warning":0.3,"drift":0.2}}}`, "must be <= drift"},
		{`{"queryType":"drift","thresholds":{"ks_pvalue":{"warning":0.01,"drift":0.05}}}`, "must be >= drift"},
	}
	for _, c := range cases {
		t.Run(c.raw, func(t *testing.T) {
			_, err := Parse(json.RawMessage(c.raw))
			require.Error(t, err)
			require.Contains(t, err.Error(), c.want)
			require.True(t, backend.IsDownstreamError(err), "user mistakes are downstream errors")
			var bq *BadQueryError
			require.True(t, errors.As(err, &bq))
		})
	}
}

func TestParseTime(t *testing.T) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Time{
		"now":                  now,
		"now-7d":               now.Add(-7 * 24 * time.Hour),
		"now-90m":              now.Add(-90 * time.Minute),
		"now+1h":               now.Add(time.Hour),
		"2026-01-02T03:04:05Z": time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		"now-1d/d":             time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC),
		"now/d":                time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC),
		"2026-01-02":           time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC),
		"1767225600000":        time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := ParseTime(in, now)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: got %s want %s", in, got, want)
	}
	for _, in := range []string{"", "now-", "now*2", "now-x", "later", "now-9223372036854775807s", "now-999999999999999y",
		"now-999999999y", "now+300y", "99999999999999d", "-9223372036854775808"} {
		_, err := ParseTime(in, now)
		require.Error(t, err, in)
	}
}

// TestBusinessDayCap: maxBusinessDays exceeds the business days (Monday to Friday, datemath's
// default) between the first and the last supported time, so the cap refuses only expressions that
// would land outside them; amounts within it still evaluate, and every 'b' of an expression counts.
func TestBusinessDayCap(t *testing.T) {
	span := 0
	for d := time.Date(minTime.Year(), minTime.Month(), minTime.Day(), 0, 0, 0, 0, time.UTC); !d.After(maxTime); d = d.AddDate(0, 0, 1) {
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			span++
		}
	}
	require.Equal(t, 152504, span, "the comment on maxBusinessDays quotes this")
	require.Greater(t, maxBusinessDays, span)

	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC) // a Tuesday
	got, err := ParseTime("now-10b", now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 2, 24, 12, 0, 0, 0, time.UTC), got, "two weeks of business days")
	got, err = ParseTime("now+b", now)
	require.NoError(t, err)
	require.Equal(t, now.AddDate(0, 0, 1), got)

	for in, capped := range map[string]bool{
		"now-160000b": false, "now+160000b": false, // evaluated: outside the supported times
		"now-160001b": true, "now-999999999b": true, "now-80000b+80001b": true, "now-159999b-b-b": true,
		"now-100800000b+000000000y": true,
	} {
		_, err := ParseTime(in, now)
		require.Error(t, err, in)
		require.Equal(t, capped, strings.Contains(err.Error(), "business days"), "%s: %v", in, err)
		if !capped {
			require.Contains(t, err.Error(), "outside the supported times", in)
		}
	}
	require.Equal(t, int64(3), businessDays("now-b-2b/d"))
	require.Equal(t, int64(0), businessDays("2024-01-02"))
}

// BenchmarkParseTimeBusinessDays parses the most expensive accepted business-day expression.
func BenchmarkParseTimeBusinessDays(b *testing.B) {
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	in := fmt.Sprintf("now-%db", maxBusinessDays)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseTime(in, now); err == nil {
			b.Fatal("accepted")
		}
	}
}

func TestParseDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"30s": 30 * time.Second, "5m": 5 * time.Minute, "1h": time.Hour, "1d": 24 * time.Hour,
		"2w": 14 * 24 * time.Hour, "1h30m": 90 * time.Minute, "500ms": 500 * time.Millisecond,
	} {
		got, err := parseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", "d", "-1d", "1.5d", "99999999999999999d", "5"} {
		_, err := parseDuration(in)
		require.Error(t, err, in)
	}
}

func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		`{"queryType":"latency","percentiles":[50,95]}`,
		`{"queryType":"drift","methods":["psi"],"binning":{"bins":10},"thresholds":{"psi":{"warning":0.1}}}`,
		`{"queryType":"drift","reference":{"kind":"window","from":"now-7d","to":"now-6d"}}`,
		`{"queryType":"traffic","window":"5m"}`,
		`{}`, `null`, `"x"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		q, err := Parse(raw)
		if err != nil {
			if !backend.IsDownstreamError(err) {
				t.Fatalf("parse error is not a downstream error: %v", err)
			}
			return
		}
		// A valid query re-encodes to a query that is still valid and means the same.
		b, err := json.Marshal(q)
		if err != nil {
			t.Fatalf("marshal: %v", err)
		}
		q2, err := Parse(b)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", b, err)
		}
		b2, _ := json.Marshal(q2)
		if string(b) != string(b2) {
			t.Fatalf("round trip changed the query: %s != %s", b, b2)
		}
	})
}
