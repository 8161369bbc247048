package frames

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// CheckAlertReady reports whether frames have a shape Grafana alerting (server-side expressions)
// reads without conversion errors:
//   - every frame is typed (Meta.Type and Meta.TypeVersion {0,1}) as timeseries-multi or numeric-multi;
//   - a frame without fields ("no data") is the only frame;
//   - a time series frame has a non-nullable time field first, ascending without duplicates, and
//     exactly one numeric value field; a numeric frame has no time field, one numeric field and one row;
//   - every series has a non-empty label set and no two series share one.
func CheckAlertReady(fs data.Frames) error {
	if len(fs) == 0 {
		return nil
	}
	seen := map[string]int{}
	for i, f := range fs {
		if f == nil {
			return fmt.Errorf("frame %d is nil", i)
		}
		if f.Meta == nil || f.Meta.Type == "" {
			return fmt.Errorf("frame %d (%s) has no Meta.Type", i, f.Name)
		}
		if f.Meta.TypeVersion != typeVersion {
			return fmt.Errorf("frame %d (%s) has TypeVersion %v, want %v", i, f.Name, f.Meta.TypeVersion, typeVersion)
		}
		if len(f.Fields) == 0 {
			if len(fs) > 1 {
				return fmt.Errorf("frame %d (%s) is an empty frame mixed with %d other frames", i, f.Name, len(fs)-1)
			}
			continue
		}
		var value *data.Field
		switch f.Meta.Type {
		case data.FrameTypeTimeSeriesMulti:
			if len(f.Fields) != 2 {
				return fmt.Errorf("frame %d (%s): want a time field and one value field, got %d fields", i, f.Name, len(f.Fields))
			}
			if err := checkTime(f.Fields[0]); err != nil {
				return fmt.Errorf("frame %d (%s): %w", i, f.Name, err)
			}
			value = f.Fields[1]
		case data.FrameTypeNumericMulti:
			if len(f.Fields) != 1 {
				return fmt.Errorf("frame %d (%s): want one value field, got %d fields", i, f.Name, len(f.Fields))
			}
			value = f.Fields[0]
			if value.Len() != 1 {
				return fmt.Errorf("frame %d (%s): numeric frame has %d rows, want 1", i, f.Name, value.Len())
			}
		default:
			return fmt.Errorf("frame %d (%s): type %q is not alert-ready (want %s or %s)", i, f.Name,
				f.Meta.Type, data.FrameTypeTimeSeriesMulti, data.FrameTypeNumericMulti)
		}
		if !value.Type().Numeric() {
			return fmt.Errorf("frame %d (%s): value field %q is %s, not numeric", i, f.Name, value.Name, value.Type())
		}
		if len(value.Labels) == 0 {
			return fmt.Errorf("frame %d (%s): value field %q has no labels", i, f.Name, value.Name)
		}
		for k, v := range value.Labels {
			if k == "" || v == "" {
				return fmt.Errorf("frame %d (%s): empty label %q=%q", i, f.Name, k, v)
			}
		}
		key := value.Labels.String()
		if j, dup := seen[key]; dup {
			return fmt.Errorf("frames %d and %d share the label set %s", j, i, key)
		}
		seen[key] = i
	}
	return nil
}

func checkTime(f *data.Field) error {
	if f.Type() != data.FieldTypeTime {
		return fmt.Errorf("first field %q is %s, want non-nullable time", f.Name, f.Type())
	}
	prev := time.Time{}
	for r := 0; r < f.Len(); r++ {
		t, _ := f.At(r).(time.Time)
		if r > 0 && !t.After(prev) {
			return fmt.Errorf("time field is not strictly ascending at row %d (%s after %s)", r, t, prev)
		}
		prev = t
	}
	return nil
}

// ErrNotNumeric is returned by Values when a field is not float64.
var ErrNotNumeric = errors.New("field is not float64")

// Values returns the float64 values of a frame's last field (the value of a time series or number
// frame), NaN for nulls.
func Values(f *data.Frame) ([]float64, error) {
	if f == nil || len(f.Fields) == 0 {
		return nil, nil
	}
	v := f.Fields[len(f.Fields)-1]
	out := make([]float64, v.Len())
	for i := range out {
		x, ok := v.ConcreteAt(i)
		if !ok {
			out[i] = math.NaN()
			continue
		}
		fv, ok := x.(float64)
		if !ok {
			return nil, ErrNotNumeric
		}
		out[i] = fv
	}
	return out, nil
}
