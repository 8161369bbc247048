package frames

import (
	"encoding/json"
	"math"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)

func TestTimeSeriesShape(t *testing.T) {
	fs := TimeSeries([]Series{
		{Labels: data.Labels{"model": "a", "quantile": "0.95"}, Times: []time.Time{t0, t0.Add(time.Minute)}, Values: []float64{1, 2}, Unit: "ms"},
		{Labels: data.Labels{"model": "b", "quantile": "0.95"}, Times: []time.Time{t0}, Values: []float64{math.NaN()}, Unit: "ms"},
	}, Info{Source: "demo", Notices: []data.Notice{InfoNotice("n")}})
	require.Len(t, fs, 2)
	require.Len(t, fs[0].Meta.Notices, 1)
	require.Empty(t, fs[1].Meta.Notices, "notices go on the first frame only")
	for _, f := range fs {
		require.Equal(t, data.FrameTypeTimeSeriesMulti, f.Meta.Type)
		require.Equal(t, data.FrameTypeVersion{0, 1}, f.Meta.TypeVersion)
		require.Equal(t, Custom{Source: "demo"}, f.Meta.Custom)
		require.Equal(t, data.FieldTypeTime, f.Fields[0].Type())
		require.Equal(t, data.FieldTypeFloat64, f.Fields[1].Type())
		require.Equal(t, "ms", f.Fields[1].Config.Unit)
	}
	require.Equal(t, "a", fs[0].Fields[1].Labels["model"])
	require.NoError(t, CheckAlertReady(fs))
	_, err := json.Marshal(fs[1]) // NaN must encode
	require.NoError(t, err)
}

func TestNumbersShape(t *testing.T) {
	fs := Numbers([]Number{{Labels: data.Labels{"model": "a"}, Value: 3}, {Labels: data.Labels{"model": "b"}, Value: 4}}, Info{})
	require.Len(t, fs, 2)
	require.Equal(t, data.FrameTypeNumericMulti, fs[0].Meta.Type)
	require.Len(t, fs[0].Fields, 1)
	v, err := Values(fs[1])
	require.NoError(t, err)
	require.Equal(t, []float64{4}, v)
	require.NoError(t, CheckAlertReady(fs))
}

func TestEmptyIsNoData(t *testing.T) {
	fs := TimeSeries(nil, Info{Notices: []data.Notice{InfoNotice("nothing")}})
	require.Len(t, fs, 1)
	require.Empty(t, fs[0].Fields)
	require.NoError(t, CheckAlertReady(fs))
	require.NoError(t, CheckAlertReady(Numbers(nil, Info{})))
}

func TestCheckAlertReadyRejects(t *testing.T) {
	ok := func() data.Frames {
		return TimeSeries([]Series{{Labels: data.Labels{"model": "a"}, Times: []time.Time{t0, t0.Add(time.Second)}, Values: []float64{1, 2}}}, Info{})
	}
	cases := map[string]func() data.Frames{
		"duplicate labels": func() data.Frames { return append(ok(), ok()...) },
		"no labels": func() data.Frames {
			return TimeSeries([]Series{{Times: []time.Time{t0}, Values: []float64{1}}}, Info{})
		},
		"empty label value": func() data.Frames {
			return TimeSeries([]Series{{Labels: data.Labels{"model": ""}, Times: []time.Time{t0}, Values: []float64{1}}}, Info{})
		},
		"unsorted time": func() data.Frames {
			return TimeSeries([]Series{{Labels: data.Labels{"model": "a"}, Times: []time.Time{t0.Add(time.Second), t0}, Values: []float64{1, 2}}}, Info{})
		},
		"duplicate time": func() data.Frames {
			return TimeSeries([]Series{{Labels: data.Labels{"model": "a"}, Times: []time.Time{t0, t0}, Values: []float64{1, 2}}}, Info{})
		},
		"untyped": func() data.Frames {
			fs := ok()
			fs[0].Meta = nil
			return fs
		},
		"table": func() data.Frames {
			return data.Frames{Table("t", []*data.Field{StringField("model", []string{"a"}), NumberField("v", "", []float64{1})}, Info{})}
		},
		"string value": func() data.Frames {
			f := data.NewFrame("x", data.NewField("time", nil, []time.Time{t0}), data.NewField("v", data.Labels{"a": "b"}, []string{"x"}))
			f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
			return data.Frames{f}
		},
		"empty frame mixed with data": func() data.Frames {
			return append(ok(), Empty(data.FrameTypeTimeSeriesMulti, Info{}))
		},
		"time field not first": func() data.Frames {
			f := data.NewFrame("x", data.NewField("v", data.Labels{"a": "b"}, []float64{1}), data.NewField("time", nil, []time.Time{t0}))
			f.SetMeta(&data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
			return data.Frames{f}
		},
		"numeric with two rows": func() data.Frames {
			f := data.NewFrame("x", data.NewField("v", data.Labels{"a": "b"}, []float64{1, 2}))
			f.SetMeta(&data.FrameMeta{Type: data.FrameTypeNumericMulti, TypeVersion: data.FrameTypeVersion{0, 1}})
			return data.Frames{f}
		},
	}
	require.NoError(t, CheckAlertReady(ok()))
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			require.Error(t, CheckAlertReady(mk()))
		})
	}
}

func TestTableAndStatusField(t *testing.T) {
	f := Table("drift", []*data.Field{StringField("feature", []string{"x"}), StatusField("status", []string{"drift"})}, Info{Source: "demo", Query: "q"})
	require.Equal(t, data.FrameTypeTable, f.Meta.Type)
	require.Equal(t, "q", f.Meta.ExecutedQueryString)
	require.NotNil(t, f.Fields[1].Config.Mappings)
	b, err := json.Marshal(f.Fields[1].Config)
	require.NoError(t, err)
	require.Contains(t, string(b), `"drift":{"text":"drift","color":"red"`)
}

func TestAddNotices(t *testing.T) {
	fs := Numbers([]Number{{Labels: data.Labels{"m": "a"}, Value: 1}, {Labels: data.Labels{"m": "b"}, Value: 1}}, Info{})
	AddNotices(fs, WarningNotice("sampled"))
	require.Empty(t, fs[1].Meta.Notices)
	require.Equal(t, "sampled", fs[0].Meta.Notices[0].Text)
	require.Equal(t, data.NoticeSeverityWarning, fs[0].Meta.Notices[0].Severity)
}

func TestAddNoticeToAll(t *testing.T) {
	fs := TimeSeries([]Series{{Times: []time.Time{time.Unix(0, 0)}, Values: []float64{1}}, {Times: []time.Time{time.Unix(0, 0)}, Values: []float64{2}}},
		Info{Notices: []data.Notice{InfoNotice("first only")}})
	fs = append(fs, data.NewFrame("bare"))
	AddNoticeToAll(fs, WarningNotice("each"))
	require.Equal(t, []data.Notice{InfoNotice("first only"), WarningNotice("each")}, fs[0].Meta.Notices)
	require.Equal(t, []data.Notice{WarningNotice("each")}, fs[1].Meta.Notices)
	require.Equal(t, []data.Notice{WarningNotice("each")}, fs[2].Meta.Notices)
}

func TestModelFields(t *testing.T) {
	m, v := []string{"iris", "iris"}, []string{"v1", "v2"}
	f := ModelFields(m, v, false)
	require.Len(t, f, 1)
	require.Equal(t, "model", f[0].Name)
	f = ModelFields(m, v, true)
	require.Len(t, f, 2)
	require.Equal(t, "version", f[1].Name)
	require.Equal(t, "v2", f[1].At(1))
}
