package demo

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// Record is one prediction record as the Prediction Log API serves it (DESIGN §6). It encodes to
// JSON exactly as §6 says: ts in RFC3339Nano UTC, latency_ms a number (null when NaN), status "ok"
// or "error", prediction and label a number, a string or null, score a number or null, features an
// object of numbers, strings and nulls.
type Record struct {
	TS        time.Time
	Model     string
	Version   string
	LatencyMs float64
	Status    string
	// Prediction is a string (class) or float64, nil when absent (error records).
	Prediction any
	Score      *float64
	// Label is the ground truth when known: a string or float64, else nil.
	Label any
	// LabelTS is when the label arrived (label_ts); zero when the record has no label.
	LabelTS time.Time
	// Features maps every feature of the model to a float64, a string or nil (missing).
	Features map[string]any
}

// Record statuses.
const (
	StatusOK    = "ok"
	StatusError = "error"
)

// record converts a generated row.
func (m *modelSpec) record(x *row) Record {
	r := Record{
		TS:        time.Unix(0, x.ts).UTC(),
		Model:     m.name,
		Version:   m.versions[x.version],
		LatencyMs: x.latency,
		Status:    StatusOK,
		Features:  make(map[string]any, len(m.features)),
	}
	if x.err {
		r.Status = StatusError
	}
	if m.predKind == source.Categorical {
		if x.predCat >= 0 {
			r.Prediction = m.classes[x.predCat]
		}
		if x.labelCat >= 0 {
			r.Label = m.classes[x.labelCat]
		}
	} else {
		if !math.IsNaN(x.predNum) {
			r.Prediction = x.predNum
		}
		if !math.IsNaN(x.labelNum) {
			r.Label = x.labelNum
		}
	}
	if r.Label != nil && x.labelTS != source.NoTime {
		r.LabelTS = time.Unix(0, x.labelTS).UTC()
	}
	if !math.IsNaN(x.score) {
		s := x.score
		r.Score = &s
	}
	for i, fs := range m.features {
		var v any
		if fs.kind == source.Categorical {
			if c := x.cat[i]; c >= 0 {
				v = fs.cats[c]
			}
		} else if !math.IsNaN(x.num[i]) {
			v = x.num[i]
		}
		r.Features[fs.name] = v
	}
	return r
}

// MarshalJSON encodes the record as DESIGN §6 says (features in name order).
func (r Record) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, 320)
	b = append(b, `{"ts":"`...)
	b = r.TS.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","model":`...)
	b = appendString(b, r.Model)
	b = append(b, `,"version":`...)
	b = appendString(b, r.Version)
	b = append(b, `,"latency_ms":`...)
	b = appendFloat(b, r.LatencyMs)
	b = append(b, `,"status":`...)
	b = appendString(b, r.Status)
	b = append(b, `,"prediction":`...)
	var err error
	if b, err = appendValue(b, r.Prediction); err != nil {
		return nil, fmt.Errorf("prediction: %w", err)
	}
	b = append(b, `,"score":`...)
	if r.Score == nil {
		b = append(b, "null"...)
	} else {
		b = appendFloat(b, *r.Score)
	}
	b = append(b, `,"label":`...)
	if b, err = appendValue(b, r.Label); err != nil {
		return nil, fmt.Errorf("label: %w", err)
	}
	b = append(b, `,"label_ts":`...)
	if r.LabelTS.IsZero() {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = r.LabelTS.UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	b = append(b, `,"features":{`...)
	names := make([]string, 0, len(r.Features))
	for k := range r.Features {
		names = append(names, k)
	}
	sort.Strings(names)
	for i, k := range names {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, k)
		b = append(b, ':')
		if b, err = appendValue(b, r.Features[k]); err != nil {
			return nil, fmt.Errorf("feature %q: %w", k, err)
		}
	}
	return append(b, "}}"...), nil
}

// UnmarshalJSON decodes a DESIGN §6 record: numbers become float64, a null latency becomes NaN.
func (r *Record) UnmarshalJSON(data []byte) error {
	var w struct {
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
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	ts, err := time.Parse(time.RFC3339Nano, w.TS)
	if err != nil {
		return fmt.Errorf("record ts: %w", err)
	}
	*r = Record{TS: ts.UTC(), Model: w.Model, Version: w.Version, LatencyMs: math.NaN(), Status: w.Status,
		Prediction: w.Prediction, Score: w.Score, Label: w.Label, Features: w.Features}
	if w.LatencyMs != nil {
		r.LatencyMs = *w.LatencyMs
	}
	if w.LabelTS != nil {
		lt, err := time.Parse(time.RFC3339Nano, *w.LabelTS)
		if err != nil {
			return fmt.Errorf("record label_ts: %w", err)
		}
		r.LabelTS = lt.UTC()
	}
	return nil
}

// appendFloat appends v as encoding/json does, or null for NaN and ±Inf.
func appendFloat(b []byte, v float64) []byte {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return append(b, "null"...)
	}
	abs := math.Abs(v)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, v, format, -1, 64)
	if format == 'e' {
		// clean up e-09 to e-9, as encoding/json does
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}

// appendString appends s as a JSON string.
func appendString(b []byte, s string) []byte {
	simple := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == '"' || c == '\\' || c >= 0x7f || c == '<' || c == '>' || c == '&' {
			simple = false
			break
		}
	}
	if simple {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// appendValue appends a feature, prediction or label value.
func appendValue(b []byte, v any) ([]byte, error) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case string:
		return appendString(b, t), nil
	case float64:
		return appendFloat(b, t), nil
	case float32:
		return appendFloat(b, float64(t)), nil
	case int:
		return strconv.AppendInt(b, int64(t), 10), nil
	case int64:
		return strconv.AppendInt(b, t, 10), nil
	case json.Number:
		if _, err := t.Float64(); err != nil {
			return nil, fmt.Errorf("invalid number %q", t.String())
		}
		return append(b, t...), nil
	}
	return nil, fmt.Errorf("unsupported value of type %T (want a number, a string or nil)", v)
}

// rowJSON encodes rows of one model as NDJSON lines without building a Record; the quoted names are
// computed once.
type rowJSON struct {
	m        *modelSpec
	prefix   []byte   // {"ts":"
	model    []byte   // ","model":"<name>","version":
	versions [][]byte // quoted versions
	classes  [][]byte
	keys     [][]byte   // ,"<feature>": (first without the comma)
	cats     [][][]byte // quoted categories per feature
}

func newRowJSON(m *modelSpec) *rowJSON {
	e := &rowJSON{m: m, prefix: []byte(`{"ts":"`)}
	e.model = appendString([]byte(`","model":`), m.name)
	e.model = append(e.model, `,"version":`...)
	for _, v := range m.versions {
		e.versions = append(e.versions, appendString(nil, v))
	}
	for _, c := range m.classes {
		e.classes = append(e.classes, appendString(nil, c))
	}
	for i, fs := range m.features {
		var k []byte
		if i > 0 {
			k = append(k, ',')
		}
		k = appendString(k, fs.name)
		e.keys = append(e.keys, append(k, ':'))
		var cats [][]byte
		for _, c := range fs.cats {
			cats = append(cats, appendString(nil, c))
		}
		e.cats = append(e.cats, cats)
	}
	return e
}

// append writes x as one JSON object followed by a newline.
func (e *rowJSON) append(b []byte, x *row) []byte {
	m := e.m
	b = append(b, e.prefix...)
	b = time.Unix(0, x.ts).UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, e.model...)
	b = append(b, e.versions[x.version]...)
	b = append(b, `,"latency_ms":`...)
	b = appendFloat(b, x.latency)
	if x.err {
		b = append(b, `,"status":"error","prediction":`...)
	} else {
		b = append(b, `,"status":"ok","prediction":`...)
	}
	if m.predKind == source.Categorical {
		b = e.appendClass(b, x.predCat)
	} else {
		b = appendFloat(b, x.predNum)
	}
	b = append(b, `,"score":`...)
	b = appendFloat(b, x.score)
	b = append(b, `,"label":`...)
	labelled := false
	if m.predKind == source.Categorical {
		b = e.appendClass(b, x.labelCat)
		labelled = x.labelCat >= 0
	} else {
		b = appendFloat(b, x.labelNum)
		labelled = !math.IsNaN(x.labelNum)
	}
	b = append(b, `,"label_ts":`...)
	if labelled && x.labelTS != source.NoTime {
		b = append(b, '"')
		b = time.Unix(0, x.labelTS).UTC().AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	} else {
		b = append(b, "null"...)
	}
	b = append(b, `,"features":{`...)
	for i, fs := range m.features {
		b = append(b, e.keys[i]...)
		if fs.kind == source.Categorical {
			if c := x.cat[i]; c >= 0 {
				b = append(b, e.cats[i][c]...)
			} else {
				b = append(b, "null"...)
			}
		} else {
			b = appendFloat(b, x.num[i])
		}
	}
	return append(b, "}}\n"...)
}

func (e *rowJSON) appendClass(b []byte, c int32) []byte {
	if c < 0 {
		return append(b, "null"...)
	}
	return append(b, e.classes[c]...)
}
