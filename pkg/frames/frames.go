// Package frames is the only place ModelLens builds Grafana data frames (DESIGN §7): dataplane
// time series (`timeseries-multi`, one series per frame), alert-ready numbers (`numeric-multi`, one
// number per frame and label set), tables, and the notices that say how numbers were obtained.
//
// Every frame carries the name of the source that answered in Meta.Custom {"source": "<name>"}.
// A response's notices go on its first frame only (Grafana shows the notices of every frame, so
// repeating them would repeat them in the panel); the one exception is a notice every frame must
// carry on its own, such as the demo fleet's synthetic-data warning (AddNoticeToAll).
package frames

import (
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// Dataplane contract version of every typed frame.
var typeVersion = data.FrameTypeVersion{0, 1}

// Info is what every frame of a response says about how it was obtained.
type Info struct {
	// Source names the source that answered ("predictionLog", "demo", "prometheus", "endpoint").
	Source string
	// Query is the upstream query, when there is one (ExecutedQueryString).
	Query string
	// Notices are attached to the frame as Meta.Notices.
	Notices []data.Notice
}

// Custom is the Meta.Custom of every ModelLens frame.
type Custom struct {
	Source string `json:"source,omitempty"`
}

// Info returns a notice of severity info.
func InfoNotice(text string) data.Notice {
	return data.Notice{Severity: data.NoticeSeverityInfo, Text: text}
}

// WarningNotice returns a notice of severity warning.
func WarningNotice(text string) data.Notice {
	return data.Notice{Severity: data.NoticeSeverityWarning, Text: text}
}

func meta(t data.FrameType, info Info) *data.FrameMeta {
	m := &data.FrameMeta{Type: t, TypeVersion: typeVersion, ExecutedQueryString: info.Query}
	if info.Source != "" {
		m.Custom = Custom{Source: info.Source}
	}
	if len(info.Notices) > 0 {
		m.Notices = append([]data.Notice(nil), info.Notices...)
	}
	return m
}

// Series is one labelled time series.
type Series struct {
	// Name is the value field's name ("value" when empty).
	Name   string
	Labels data.Labels
	Times  []time.Time
	Values []float64
	Unit   string
	// DisplayName, when set, is the field's DisplayNameFromDS.
	DisplayName string
}

// TimeSeries returns one `timeseries-multi` frame per series: field "time" first (ascending, as
// given), then one float64 value field with the series' labels and unit. With no series it returns
// a single typed frame without fields (Grafana's "no data"), carrying info's notices.
func TimeSeries(series []Series, info Info) data.Frames {
	if len(series) == 0 {
		return data.Frames{Empty(data.FrameTypeTimeSeriesMulti, info)}
	}
	out := make(data.Frames, 0, len(series))
	for i := range series {
		s := &series[i]
		name := s.Name
		if name == "" {
			name = "value"
		}
		times := make([]time.Time, len(s.Times))
		copy(times, s.Times)
		values := make([]float64, len(s.Values))
		copy(values, s.Values)
		v := data.NewField(name, s.Labels.Copy(), values)
		if s.Unit != "" || s.DisplayName != "" {
			v.SetConfig(&data.FieldConfig{Unit: s.Unit, DisplayNameFromDS: s.DisplayName})
		}
		f := data.NewFrame(name, data.NewField("time", nil, times), v)
		f.SetMeta(meta(data.FrameTypeTimeSeriesMulti, info))
		out = append(out, f)
		info.Notices = nil
	}
	return out
}

// Number is one labelled number.
type Number struct {
	Name   string
	Labels data.Labels
	Value  float64
	Unit   string
}

// Numbers returns one `numeric-multi` frame per number: a single float64 field with the labels and
// no time field, which Grafana alerting compares without a Reduce step. With no numbers it returns
// a single typed frame without fields ("no data").
func Numbers(nums []Number, info Info) data.Frames {
	if len(nums) == 0 {
		return data.Frames{Empty(data.FrameTypeNumericMulti, info)}
	}
	out := make(data.Frames, 0, len(nums))
	for _, n := range nums {
		name := n.Name
		if name == "" {
			name = "value"
		}
		v := data.NewField(name, n.Labels.Copy(), []float64{n.Value})
		if n.Unit != "" {
			v.SetConfig(&data.FieldConfig{Unit: n.Unit})
		}
		f := data.NewFrame(name, v)
		f.SetMeta(meta(data.FrameTypeNumericMulti, info))
		out = append(out, f)
		info.Notices = nil
	}
	return out
}

// Empty returns a typed frame without fields: Grafana's "no data" for that frame type.
func Empty(t data.FrameType, info Info) *data.Frame {
	f := data.NewFrame("")
	f.SetMeta(meta(t, info))
	return f
}

// Table returns a frame of Meta.Type table from the given fields (all of the same length).
func Table(name string, fields []*data.Field, info Info) *data.Frame {
	f := data.NewFrame(name, fields...)
	f.SetMeta(meta(data.FrameTypeTable, info))
	f.Meta.PreferredVisualization = data.VisTypeTable
	return f
}

// AddNotices appends notices to the first frame.
func AddNotices(fs data.Frames, notices ...data.Notice) {
	if len(notices) == 0 || len(fs) == 0 {
		return
	}
	f := fs[0]
	if f.Meta == nil {
		f.Meta = &data.FrameMeta{}
	}
	f.Meta.Notices = append(f.Meta.Notices, notices...)
}

// AddNoticeToAll appends a notice to every frame, for what each frame must say even when taken
// alone (a table panel's frame selector, a transformation that keeps one frame).
func AddNoticeToAll(fs data.Frames, n data.Notice) {
	for _, f := range fs {
		if f == nil {
			continue
		}
		if f.Meta == nil {
			f.Meta = &data.FrameMeta{}
		}
		f.Meta.Notices = append(f.Meta.Notices, n)
	}
}
