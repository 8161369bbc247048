// Package source holds the types every connector decodes into: model metadata and columnar batches
// of prediction records (DESIGN §6), and the interface the query layer reads them through.
package source

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// Kind is the type of a feature or model output.
type Kind string

// Kinds.
const (
	Numeric     Kind = "numeric"
	Categorical Kind = "categorical"
)

// Feature is one input feature of a model.
type Feature struct {
	Name string `json:"name"`
	Type Kind   `json:"type"`
	// Importance is the feature's importance for the model's predictions (optional, >= 0; any
	// scale: the drift table normalises over the features it shows).
	Importance *float64 `json:"importance,omitempty"`
}

// Output describes a model's prediction.
type Output struct {
	Type Kind `json:"type"`
}

// Model is the metadata of one model (Prediction Log API `GET /models`).
type Model struct {
	Name       string    `json:"name"`
	Versions   []string  `json:"versions"`
	Features   []Feature `json:"features"`
	Prediction Output    `json:"prediction"`
}

// Feature returns the named feature and whether the model has it.
func (m *Model) Feature(name string) (Feature, bool) {
	for _, f := range m.Features {
		if f.Name == name {
			return f, true
		}
	}
	return Feature{}, false
}

// HasVersion reports whether v is one of the model's versions.
func (m *Model) HasVersion(v string) bool {
	for _, x := range m.Versions {
		if x == v {
			return true
		}
	}
	return false
}

// Column is one variable of a batch in columnar form. A numeric column uses Num with NaN for null;
// a categorical column uses Cat, indexes into Dict, with -1 for null.
//
// Mismatch, when not nil, has one entry per value: true where the source sent a value of the wrong
// type (a string or boolean for a numeric variable, a number for a categorical one, an object or
// array for either). The decoders coerce such a value (a numeric string is read as its number) or
// store it as null; Mismatch keeps the count for data quality. nil means no value mismatched;
// entries beyond its length are false.
type Column struct {
	Kind     Kind
	Num      []float64
	Cat      []int32
	Dict     []string
	Mismatch []bool

	index map[string]int32
}

// NewColumn returns an empty column of the given kind with room for n values.
func NewColumn(kind Kind, n int) *Column {
	c := &Column{Kind: kind}
	if kind == Categorical {
		c.Cat = make([]int32, 0, n)
	} else {
		c.Num = make([]float64, 0, n)
	}
	return c
}

// Len is the number of values (nulls included).
func (c *Column) Len() int {
	if c.Kind == Categorical {
		return len(c.Cat)
	}
	return len(c.Num)
}

// MismatchAt reports whether value i had the wrong type.
func (c *Column) MismatchAt(i int) bool { return i >= 0 && i < len(c.Mismatch) && c.Mismatch[i] }

// MarkMismatch records whether value i (the last appended, or any earlier one) had the wrong type;
// the Mismatch slice is allocated on the first true.
func (c *Column) MarkMismatch(i int, bad bool) {
	if c.Mismatch == nil {
		if !bad {
			return
		}
		n := c.Len()
		if i >= n {
			n = i + 1
		}
		c.Mismatch = make([]bool, n, max(n, cap(c.Num), cap(c.Cat)))
	}
	for len(c.Mismatch) <= i {
		c.Mismatch = append(c.Mismatch, false)
	}
	c.Mismatch[i] = bad
}

// AppendNum appends a numeric value (NaN for null).
func (c *Column) AppendNum(v float64) { c.Num = append(c.Num, v) }

// AppendNull appends a null.
func (c *Column) AppendNull() {
	if c.Kind == Categorical {
		c.Cat = append(c.Cat, -1)
	} else {
		c.Num = append(c.Num, math.NaN())
	}
}

// AppendCat appends a categorical value, interning it in Dict; ErrTooManyValues when the
// dictionary is full.
func (c *Column) AppendCat(v string) error {
	code, err := c.Code(v)
	if err != nil {
		return err
	}
	c.Cat = append(c.Cat, code)
	return nil
}

// ErrTooManyValues is returned when a dictionary would exceed limits.MaxDistinctValues.
var ErrTooManyValues = fmt.Errorf("more than %d distinct values", limits.MaxDistinctValues)

// NextCode is the code of the entry a dictionary of n entries appends, or ErrTooManyValues when it
// already holds limits.MaxDistinctValues.
func NextCode(n int) (int32, error) {
	if n < 0 || n >= limits.MaxDistinctValues {
		return 0, ErrTooManyValues
	}
	return int32(n), nil
}

// Code returns the dictionary code of v, adding it when new; ErrTooManyValues when v is new and
// the dictionary is full.
func (c *Column) Code(v string) (int32, error) {
	if c.index == nil {
		c.index = make(map[string]int32, len(c.Dict)+8)
		for i, s := range c.Dict {
			code, err := NextCode(i)
			if err != nil {
				return 0, err
			}
			c.index[s] = code
		}
	}
	if i, ok := c.index[v]; ok {
		return i, nil
	}
	i, err := NextCode(len(c.Dict))
	if err != nil {
		return 0, err
	}
	c.Dict = append(c.Dict, v)
	c.index[v] = i
	return i, nil
}

// CodeBytes is Code for a value held in a buffer: a known value costs no allocation.
func (c *Column) CodeBytes(v []byte) (int32, error) {
	if i, ok := c.index[string(v)]; ok {
		return i, nil
	}
	return c.Code(string(v))
}

// Batch is a set of prediction records of one model in columnar form, ascending by time.
type Batch struct {
	Model string
	// TS holds record times as Unix nanoseconds, ascending.
	TS []int64
	// Version holds per-record codes into Versions.
	Version  []int32
	Versions []string
	// LatencyMs is NaN when a record has no latency.
	LatencyMs []float64
	// Error is true for records with status "error".
	Error      []bool
	Prediction *Column
	// Score is NaN when a record has no score.
	Score []float64
	Label *Column
	// LabelTS holds when each record's ground truth arrived (`label_ts`, Unix nanoseconds), NoTime
	// where a record has none; nil when the source has no label times.
	LabelTS []int64
	// FeatureNames lists the features in model order; Features holds their columns.
	FeatureNames []string
	Features     map[string]*Column
	// Truncated is true when the maxSamples cap kept only part of the range's records.
	Truncated bool
	// Newest is true when a truncated batch holds the newest records of the range (the API
	// answered newest first, or its tail was read again): every record with CompleteAfter < ts is
	// present and earlier ones were dropped. When false a truncated batch holds the oldest records.
	Newest bool
	// CompleteAfter is, for a truncated batch with Newest, the Unix-nanosecond time after which
	// the batch holds every record of the range.
	CompleteAfter int64
	// OrderIgnored is true when the API was asked for newest records first (order=desc) and
	// answered oldest first; TailReads is then the number of further requests that read the
	// range's tail again.
	OrderIgnored bool
	TailReads    int
	// SampledFrom is, when the batch is a uniform sample of a larger reference (the
	// maxReferenceSamples cap), the number of records read; 0 otherwise.
	SampledFrom int64
}

// NoTime marks a missing time in a column of Unix nanoseconds (LabelTS).
const NoTime int64 = math.MinInt64

// Len is the number of records.
func (b *Batch) Len() int { return len(b.TS) }

// Column returns the column of a feature, or of the outputs "prediction" and "score", or of
// "latency"; nil when the batch has no such variable.
func (b *Batch) Column(name string) *Column {
	if c, ok := b.Features[name]; ok {
		return c
	}
	switch name {
	case "prediction":
		return b.Prediction
	case "score":
		return &Column{Kind: Numeric, Num: b.Score}
	case "latency":
		return &Column{Kind: Numeric, Num: b.LatencyMs}
	}
	return nil
}

// Errors a source returns; the query layer maps them to per-query errors with the right source.
var (
	// ErrUnknownModel means the model does not exist upstream.
	ErrUnknownModel = errors.New("unknown model")
	// ErrNoReference means the model has no reference sample.
	ErrNoReference = errors.New("no reference sample")
)

// RecordsRequest asks for the records of one model with start < ts <= end.
type RecordsRequest struct {
	Model string
	// Version is empty for all versions.
	Version string
	Start   time.Time
	End     time.Time
	// Limit caps the number of records fetched (maxSamples); 0 means no cap. When it bites the
	// newest records are wanted (the windows alert rules read): sources ask for them first.
	Limit int
	// Variables, when set, are the only features and outputs ("prediction", "label") the caller
	// reads: a source may leave the others out of the batch (features absent, outputs null).
	// Time, version, latency, status and score are always read.
	Variables []string
}

// PredictionLog is what the query layer reads prediction records from: the Prediction Log API
// client and the in-process demo fleet both implement it.
type PredictionLog interface {
	Models(ctx context.Context) ([]Model, error)
	Records(ctx context.Context, req RecordsRequest) (*Batch, error)
	// Reference returns the reference (training) sample of a model; version may be empty. Its
	// records need no time. A source that has no sample for the version answers an empty batch
	// or an error wrapping ErrNoReference; the query layer decides what to compare with.
	Reference(ctx context.Context, model, version string) (*Batch, error)
}
