package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/demo/feastdemo/feastdemotest"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
)

// updatePreview rewrites the dashboard preview's frame fixtures; only with UPDATE_GOLDEN=1 (the
// repository's flag for golden files).
var updatePreview = os.Getenv("UPDATE_GOLDEN") == "1"

// previewDir holds, per bundled dashboard, the frames the real query handler returns for each of its
// panels on the demo fleet: the input of the dashboard preview page (tests/preview), which draws
// them with Grafana's panel components.
const previewDir = "tests/preview/frames"

// previewModel is the model the per-model dashboards are opened for in the preview.
const previewModel = "fraud-detector"

type previewTarget struct {
	RefID  string            `json:"refId"`
	Frames []json.RawMessage `json:"frames"`
}

type previewPanel struct {
	ID      int             `json:"id"`
	Type    string          `json:"type"`
	Title   string          `json:"title"`
	GridPos GridPos         `json:"gridPos"`
	Repeat  string          `json:"repeat,omitempty"` // the feature a repeated panel shows
	Targets []previewTarget `json:"targets,omitempty"`
}

type previewDashboard struct {
	UID    string         `json:"uid"`
	Title  string         `json:"title"`
	From   int64          `json:"from"` // Unix ms
	To     int64          `json:"to"`
	Model  string         `json:"model"`
	Panels []previewPanel `json:"panels"`
}

// roundFloats rounds every non-integer JSON number to 10 significant digits, as the query
// package's golden files do: the fixtures pin shapes and values, not last bits of the kernels.
func roundFloats(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = roundFloats(e)
		}
	case []any:
		for i, e := range x {
			x[i] = roundFloats(e)
		}
	case json.Number:
		if _, err := x.Int64(); err == nil {
			return x
		}
		f, err := x.Float64()
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return x
		}
		return json.Number(strconv.FormatFloat(f, 'g', 10, 64))
	}
	return v
}

// fitsVisualization checks that a panel's frames have the shape its visualization draws, and hold
// something to draw: a time series needs a time field and a number field in every frame; a stat,
// gauge or bar gauge a value; a bar chart exactly one frame with a category or time field and
// numbers; a table rows; and every panel but a table at least one finite number (not only NaN).
func fitsVisualization(panelType string, frames []*data.Frame) error {
	if len(frames) == 0 {
		return fmt.Errorf("no frames")
	}
	finite, rows := false, 0
	for i, f := range frames {
		var hasTime, hasNum, hasCat bool
		n, _ := f.RowLen()
		rows += n
		for _, fld := range f.Fields {
			switch ft := fld.Type(); {
			case ft.Time():
				hasTime = true
			case ft.Numeric():
				hasNum = true
				for j := 0; j < fld.Len(); j++ {
					if v, ok := fld.ConcreteAt(j); ok {
						if x, err := toFloat(v); err == nil && !math.IsNaN(x) && !math.IsInf(x, 0) {
							finite = true
						}
					}
				}
			case ft == data.FieldTypeString || ft == data.FieldTypeNullableString:
				hasCat = true
			}
		}
		switch panelType {
		case "timeseries", "heatmap":
			if !hasTime || !hasNum {
				return fmt.Errorf("frame %d (%s) has no time field or no number field: a %s cannot draw it", i, f.Name, panelType)
			}
		case "barchart":
			if !(hasCat || hasTime) || !hasNum {
				return fmt.Errorf("frame %d (%s) has no category/time field or no number field: a bar chart cannot draw it", i, f.Name)
			}
		}
	}
	switch {
	case panelType == "barchart" && len(frames) != 1:
		return fmt.Errorf("a bar chart draws one frame, got %d", len(frames))
	case rows == 0:
		return fmt.Errorf("no rows")
	case panelType != "table" && !finite:
		return fmt.Errorf("no finite number: the %s would show only NaN or nothing", panelType)
	}
	return nil
}

func toFloat(v any) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	}
	return 0, fmt.Errorf("%T is not a number", v)
}

// TestDashboardPreviewFrames runs every panel query of every bundled dashboard through the real
// query handler on the demo fleet (per-model dashboards for previewModel, every feature; repeated
// panels once per feature) and compares the frames with tests/preview/frames/<uid>.json, which
// UPDATE_GOLDEN=1 rewrites. The preview page draws exactly these frames; each panel's frames must
// fit its visualization (fitsVisualization).
func TestDashboardPreviewFrames(t *testing.T) {
	ctx := t.Context()
	fleet := demo.NewFleet(demo.DefaultSeed)
	h := query.New(query.Deps{Demo: fleet})
	models, err := fleet.Models(ctx)
	require.NoError(t, err)
	var all []string
	for _, m := range models {
		if m.Name == previewModel {
			for _, f := range m.Features {
				all = append(all, f.Name)
			}
		}
	}
	require.NotEmpty(t, all, "the demo fleet has no model %s", previewModel)

	dir := filepath.Join(repoRoot(t), filepath.FromSlash(previewDir))
	for _, d := range loadAll(t) {
		t.Run(d.UID, func(t *testing.T) {
			h := h
			if d.UID == feastDashboard {
				// The demo's Feast stores, in real PostgreSQL and Redis, as of the range's end.
				env := feastdemotest.Start(t, runTo.Add(-6*time.Hour), runTo, runTo.Add(-3*24*time.Hour))
				h = env.At(t, runTo)
			}
			b := binding{model: query.WildcardAllVersions}
			if m, _ := d.Variable("model"); !m.IncludeAll {
				b = binding{model: previewModel, all: all}
			}
			out := previewDashboard{UID: d.UID, Title: d.Title, From: runFrom.UnixMilli(), To: runTo.UnixMilli(), Model: b.model}
			for _, p := range d.AllPanels() {
				repeats := []string{""}
				if p.Repeat == "feature" {
					repeats = b.all
				}
				for _, rf := range repeats {
					var panelFrames []*data.Frame
					pp := previewPanel{ID: p.ID, Type: p.Type, Title: p.Title, GridPos: p.GridPos, Repeat: rf}
					for _, tg := range p.Targets {
						r := run(t, h, interpolate(t, tg.Raw, b, rf), false)
						require.NoError(t, r.Error, "%s / %s target %s", d.UID, p.Title, tg.RefID)
						pt := previewTarget{RefID: tg.RefID}
						panelFrames = append(panelFrames, r.Frames...)
						for _, f := range r.Frames {
							raw, err := json.Marshal(f)
							require.NoError(t, err)
							pt.Frames = append(pt.Frames, raw)
						}
						pp.Targets = append(pp.Targets, pt)
					}
					if p.Type != "row" {
						require.NotEmpty(t, pp.Targets, "%s / %s has no query", d.UID, p.Title)
						require.NoError(t, fitsVisualization(p.Type, panelFrames), "%s / %s %s", d.UID, p.Title, rf)
					}
					out.Panels = append(out.Panels, pp)
				}
			}
			raw, err := json.Marshal(out)
			require.NoError(t, err)
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			var generic any
			require.NoError(t, dec.Decode(&generic))
			got, err := json.MarshalIndent(roundFloats(generic), "", " ")
			require.NoError(t, err)
			got = append(got, '\n')

			file := filepath.Join(dir, d.UID+".json")
			if updatePreview {
				require.NoError(t, os.MkdirAll(dir, 0o755))
				require.NoError(t, os.WriteFile(file, got, 0o644))
				return
			}
			want, err := os.ReadFile(file)
			require.NoError(t, err, "run UPDATE_GOLDEN=1 go test ./pkg/dashboards -run TestDashboardPreviewFrames")
			require.Equal(t, string(want), string(got), "%s: the panels' frames changed; if intended, UPDATE_GOLDEN=1 go test ./pkg/dashboards -run TestDashboardPreviewFrames", file)
		})
	}
}

func TestFitsVisualizationRejectsMisfits(t *testing.T) {
	ts := []time.Time{runFrom, runTo}
	series := data.NewFrame("s", data.NewField("time", nil, ts), data.NewField("v", nil, []float64{1, 2}))
	nanSeries := data.NewFrame("n", data.NewField("time", nil, ts), data.NewField("v", nil, []float64{math.NaN(), math.NaN()}))
	table := data.NewFrame("t", data.NewField("model", nil, []string{"a"}), data.NewField("psi", nil, []float64{0.1}))
	noTime := data.NewFrame("x", data.NewField("v", nil, []float64{1}))
	empty := data.NewFrame("e", data.NewField("time", nil, []time.Time{}), data.NewField("v", nil, []float64{}))

	require.NoError(t, fitsVisualization("timeseries", []*data.Frame{series}))
	require.NoError(t, fitsVisualization("stat", []*data.Frame{table}))
	require.NoError(t, fitsVisualization("barchart", []*data.Frame{table}))
	require.NoError(t, fitsVisualization("table", []*data.Frame{table}))
	require.ErrorContains(t, fitsVisualization("timeseries", []*data.Frame{noTime}), "no time field")
	require.ErrorContains(t, fitsVisualization("timeseries", []*data.Frame{nanSeries}), "only NaN")
	require.ErrorContains(t, fitsVisualization("barchart", []*data.Frame{table, table}), "one frame")
	require.ErrorContains(t, fitsVisualization("stat", []*data.Frame{empty}), "no rows")
	require.ErrorContains(t, fitsVisualization("stat", nil), "no frames")
}
