package prometheus

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestSaturationGolden runs every saturation metric of every preset against recorded answers of
// Prometheus 2.42 (testdata/backfill.py writes the process_*, DCGM, Triton, BentoML and TorchServe
// series) and compares the results with testdata/golden/<preset>-saturation.json.
func TestSaturationGolden(t *testing.T) {
	for _, pc := range presetCases {
		t.Run(string(pc.preset), func(t *testing.T) {
			srv := recordingServer(t, string(pc.preset)+"-saturation", "")
			s := testSource(t, srv.URL, settings.Prometheus{Preset: pc.preset})
			ctx := context.Background()
			res, err := s.Saturation(ctx, recReq("", ""), nil)
			if err != nil {
				t.Fatal(err)
			}
			out := map[string]any{
				"all":        gOf(res, nil),
				"by_version": gOf(s.Saturation(ctx, recReq(pc.model, "*"), nil)),
			}
			golden(t, string(pc.preset)+"-saturation", out)
			checkSaturationPreset(t, pc.preset, res)
		})
	}
}

// checkSaturationPreset checks what each preset answers and what it says it cannot.
func checkSaturationPreset(t *testing.T, preset settings.Preset, res *source.SeriesResult) {
	t.Helper()
	type want struct {
		metrics []string // metrics with series
		missing []string // metrics with a "no ... metric" notice
	}
	cases := map[settings.Preset]want{
		settings.PresetGeneric:    {[]string{"cpu", "memory", "gpu", "gpuMemory"}, []string{"queue"}},
		settings.PresetKServe:     {[]string{"cpu", "memory"}, []string{"queue"}},
		settings.PresetBentoML:    {[]string{"cpu", "memory", "queue"}, nil},
		settings.PresetSeldon:     {[]string{"cpu", "memory"}, []string{"queue"}},
		settings.PresetTriton:     {[]string{"gpu", "gpuMemory", "queue"}, []string{"cpu", "memory"}},
		settings.PresetTorchServe: {[]string{"queue"}, []string{"cpu", "memory"}},
		settings.PresetMLServer:   {[]string{"cpu", "memory"}, []string{"queue"}},
	}
	got := map[string]bool{}
	for _, se := range res.Series {
		got[se.Labels["metric"]] = true
		if se.Labels["model"] == "" || se.Labels["instance"] == "" || len(se.Times) == 0 {
			t.Errorf("series %v: want model and instance labels and points", se.Labels)
		}
		if (se.Labels["metric"] == "gpu" || se.Labels["metric"] == "gpuMemory") && se.Labels["gpu"] == "" {
			t.Errorf("GPU series %v without gpu label", se.Labels)
		}
	}
	w := cases[preset]
	for _, m := range w.metrics {
		if !got[m] {
			t.Errorf("no %s series (notices %q)", m, res.Notices)
		}
	}
	for _, m := range w.missing {
		if got[m] {
			t.Errorf("%s series from a preset that has none", m)
		}
		if !strings.Contains(strings.Join(res.Notices, "\n"), "no "+m+" metric") {
			t.Errorf("no notice for %s: %q", m, res.Notices)
		}
	}
}

// TestSaturationEqualsPrometheus checks the generic preset's GPU utilisation (DCGM, percent) and
// CPU (cores) against the recorded data's known values: GPU 0 at 97% from 01:15 to 01:25 and the
// CPU's rate equal to Prometheus' own
//
//	sum by (instance) (rate(process_cpu_seconds_total{instance="127.0.0.1:9100"}[5m]))
//
// (recorded in the same file), within 1e-12 relative.
func TestSaturationEqualsPrometheus(t *testing.T) {
	srv := recordingServer(t, "generic-saturation-reference", "")
	s := testSource(t, srv.URL, settings.Prometheus{Preset: settings.PresetGeneric})
	ctx := context.Background()
	req := source.MetricsRequest{Model: "churn", Start: recT0.Add(15 * time.Minute), End: recT0.Add(25 * time.Minute), Step: time.Minute, Window: time.Minute}
	res, err := s.Saturation(ctx, req, []string{"gpu"})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, se := range res.Series {
		if se.Labels["gpu"] != "0" {
			continue
		}
		for i, v := range se.Values {
			// The window (t−1m, t] holds only 97% samples from 01:16 through 01:24:45.
			if tt := se.Times[i]; !tt.Before(recT0.Add(16*time.Minute)) && !tt.After(recT0.Add(24*time.Minute)) {
				if !closeRel(v, 0.97, 1e-12) {
					t.Errorf("gpu at %s = %v, want 0.97", tt, v)
				}
				n++
			}
		}
	}
	if n != 9 {
		t.Fatalf("checked %d GPU points, want 9", n)
	}

	cpu, err := s.Saturation(ctx, recReq("churn", ""), []string{"cpu"})
	if err != nil {
		t.Fatal(err)
	}
	ref := promMatrix(t, s, `sum by (instance) (rate(process_cpu_seconds_total{instance="127.0.0.1:9100"}[5m]))`)
	if len(cpu.Series) != 1 || len(ref) != 1 || len(cpu.Series[0].Values) != len(ref[0].Values) {
		t.Fatalf("cpu: %d series, reference %d", len(cpu.Series), len(ref))
	}
	for i, v := range cpu.Series[0].Values {
		if want := float64(ref[0].Values[i].Value); !closeRel(v, want, 1e-12) || v <= 0 {
			t.Errorf("cpu at %s = %v, Prometheus %v", cpu.Series[0].Times[i], v, want)
		}
	}
}
