package dashboards

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testutil"

	"github.com/modellens/mlmonitoring-datasource/pkg/query"
)

// repoRoot is the directory holding go.mod.
func repoRoot(t *testing.T) string { return testutil.RepoRoot(t) }

func loadAll(t *testing.T) []*Dashboard {
	t.Helper()
	ds, err := LoadDir(filepath.Join(repoRoot(t), "dashboards"))
	require.NoError(t, err)
	require.NotEmpty(t, ds)
	return ds
}

// The stable uids: links, alert rules (dashboardUid) and users' bookmarks depend on them.
var wantUIDs = []string{"modellens-details", "modellens-drift", "modellens-feature-store", "modellens-overview", "modellens-performance"}

var ourDS = DSRef{Type: PluginID, UID: "${" + DatasourceVar + "}"}

func TestDashboardsLoadAndHaveStableUIDs(t *testing.T) {
	var uids []string
	for _, d := range loadAll(t) {
		uids = append(uids, d.UID)
		require.True(t, strings.HasPrefix(d.Title, "ModelLens / "), "%s: title %q", d.Path, d.Title)
		// Grafana 12 dashboards: schemaVersion 41 is native from 11.6 to 12.1 and migrated silently by
		// 12.2+; shipping a newer one than the oldest supported Grafana understands would break it.
		require.Equal(t, 41, d.SchemaVersion, d.Path)
		require.GreaterOrEqual(t, d.Revision, 1, "%s: revision must be set (bump it on every change)", d.Path)

		var raw map[string]any
		require.NoError(t, json.Unmarshal(mustRead(t, d.Path), &raw))
		require.Nil(t, raw["id"], "%s: a bundled dashboard must not carry a database id", d.Path)
		require.NotContains(t, raw, "__inputs", "%s: __inputs would replace ${datasource} by a data source name on import", d.Path)
	}
	slices.Sort(uids)
	require.Equal(t, wantUIDs, uids)
}

func mustRead(t *testing.T, p string) []byte {
	t.Helper()
	b, err := os.ReadFile(p)
	require.NoError(t, err)
	return b
}

func TestDashboardVariables(t *testing.T) {
	for _, d := range loadAll(t) {
		t.Run(d.UID, func(t *testing.T) {
			v, ok := d.Variable(DatasourceVar)
			require.True(t, ok, "no %q variable", DatasourceVar)
			require.Equal(t, "datasource", v.Type)
			var q string
			require.NoError(t, json.Unmarshal(v.Query, &q))
			require.Equal(t, PluginID, q, "the data source variable lists ModelLens data sources")

			m, ok := d.Variable("model")
			require.True(t, ok, "no model variable")
			names := map[string]bool{}
			for _, v := range d.Templating.List {
				require.False(t, names[v.Name], "variable %s defined twice", v.Name)
				names[v.Name] = true
				if v.Type != "query" {
					continue
				}
				require.NotNil(t, v.Datasource, "variable %s has no data source", v.Name)
				require.Equal(t, ourDS, *v.Datasource, "variable %s must query ${datasource}", v.Name)
				// The frontend's CustomVariableSupport query model.
				var vq struct {
					Type  string `json:"type"`
					Model string `json:"model"`
				}
				dec := json.NewDecoder(strings.NewReader(string(v.Query)))
				dec.DisallowUnknownFields()
				require.NoError(t, dec.Decode(&vq), "variable %s: query must be {type, model}", v.Name)
				require.Contains(t, []string{"models", "versions", "features"}, vq.Type, "variable %s", v.Name)
				if vq.Type != "models" {
					require.Equal(t, "$model", vq.Model, "variable %s lists the %s of the selected model", v.Name, vq.Type)
				}
				switch {
				case vq.Type == "versions" && v.IncludeAll:
					// The frontend turns the All marker into "" (all versions together); "*" would
					// split every panel per version and leave a bar chart showing only the first.
					require.Equal(t, "$__all", v.AllValue, "variable %s: All = every version together", v.Name)
				case v.IncludeAll && v.AllValue != "":
					require.Equal(t, "*", v.AllValue, "variable %s: a custom All value must be * (every model / feature)", v.Name)
				}
			}
			var mq struct{ Type string }
			require.NoError(t, json.Unmarshal(m.Query, &mq))
			require.Equal(t, "models", mq.Type)
			if d.UID != "modellens-overview" {
				require.False(t, m.IncludeAll, "%s shows one model at a time", d.UID)
				require.False(t, m.Multi)
			}
		})
	}
}

func TestEveryPanelAndTargetUsesTheDatasourceVariable(t *testing.T) {
	for _, d := range loadAll(t) {
		t.Run(d.UID, func(t *testing.T) {
			ids := map[int]bool{}
			nested := 0
			for _, p := range d.AllPanels() {
				require.False(t, ids[p.ID], "panel id %d used twice", p.ID)
				ids[p.ID] = true
				require.True(t, p.GridPos.W > 0 && p.GridPos.X+p.GridPos.W <= 24 && p.GridPos.H > 0, "panel %q: gridPos %+v", p.Title, p.GridPos)
				if p.Type == "row" {
					nested += len(p.Panels)
					require.Empty(t, p.Targets, "row %q", p.Title)
					continue
				}
				require.NotNil(t, p.Datasource, "panel %q has no data source", p.Title)
				require.Equal(t, ourDS, *p.Datasource, "panel %q", p.Title)
				require.NotEmpty(t, p.Targets, "panel %q has no query", p.Title)
				refs := map[string]bool{}
				for _, tg := range p.Targets {
					require.NotNil(t, tg.Datasource, "panel %q target %s has no data source", p.Title, tg.RefID)
					require.Equal(t, ourDS, *tg.Datasource, "panel %q target %s", p.Title, tg.RefID)
					require.NotEmpty(t, tg.RefID)
					require.False(t, refs[tg.RefID], "panel %q: refId %s twice", p.Title, tg.RefID)
					refs[tg.RefID] = true
				}
				if p.Repeat != "" {
					_, ok := d.Variable(p.Repeat)
					require.True(t, ok, "panel %q repeats over unknown variable %s", p.Title, p.Repeat)
				}
			}
			if d.UID == "modellens-details" {
				require.Positive(t, nested, "the details dashboard keeps panels in a collapsed row")
			}
			// Panels on the grid do not overlap.
			ps := d.AllPanels()
			for i := range ps {
				for j := i + 1; j < len(ps); j++ {
					a, b := ps[i].GridPos, ps[j].GridPos
					overlap := a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
					require.False(t, overlap, "panels %q and %q overlap", ps[i].Title, ps[j].Title)
				}
			}
		})
	}
}

// TestNoHardCodedDatasourceUID walks every JSON value: the only uids are the dashboard's own,
// ${datasource}, and Grafana's built-in annotation source.
func TestNoHardCodedDatasourceUID(t *testing.T) {
	for _, d := range loadAll(t) {
		var raw any
		require.NoError(t, json.Unmarshal(mustRead(t, d.Path), &raw))
		var walk func(path string, v any)
		walk = func(path string, v any) {
			switch x := v.(type) {
			case map[string]any:
				for k, c := range x {
					if k == "uid" && path != "" {
						s, _ := c.(string)
						if s != "${datasource}" && !(x["type"] == "grafana" && s == "-- Grafana --") {
							t.Errorf("%s: hard-coded uid %q at %s", d.Path, s, path)
						}
					}
					if k == "datasource" {
						if ref, ok := c.(map[string]any); ok && ref["type"] != PluginID && ref["type"] != "grafana" {
							t.Errorf("%s: data source of another type %v at %s", d.Path, ref["type"], path)
						}
						if s, ok := c.(string); ok && path != "/templating/list" {
							t.Errorf("%s: data source given by name %q at %s", d.Path, s, path)
						}
					}
					walk(path+"/"+k, c)
				}
			case []any:
				for _, c := range x {
					walk(path, c)
				}
			}
		}
		walk("", raw)
	}
}

func TestEveryTargetIsAValidQuery(t *testing.T) {
	total := 0
	for _, d := range loadAll(t) {
		for _, p := range d.AllPanels() {
			for _, tg := range p.Targets {
				total++
				q, err := Validate(tg.Raw)
				require.NoError(t, err, "%s panel %q target %s: %s", d.UID, p.Title, tg.RefID, tg.Raw)
				require.NotEmpty(t, q.QueryType)
				// Template variables appear only where the frontend interpolates them (model, version,
				// features), and only variables the dashboard defines.
				check := func(field, s string) {
					for _, name := range VariableRefs(s) {
						_, ok := d.Variable(name)
						require.True(t, ok, "%s panel %q: %s refers to undefined variable $%s", d.UID, p.Title, field, name)
					}
				}
				check("model", q.Model)
				check("version", q.Version)
				for _, f := range q.Features {
					check("features", f)
				}
				for field, s := range map[string]string{"window": q.Window, "output": q.Output, "source": q.Source} {
					require.Empty(t, VariableRefs(s), "%s panel %q: %s cannot hold a variable (alerting and validation see it raw)", d.UID, p.Title, field)
				}
				if q.QueryType == query.TypeTraffic {
					require.NotEmpty(t, q.Metrics, "%s panel %q: traffic queries name their metrics", d.UID, p.Title)
				}
			}
		}
	}
	require.Greater(t, total, 30)
}

func TestValidateRejectsBadQueries(t *testing.T) {
	for _, raw := range []string{
		`{"refId":"A","queryType":"trafic"}`,
		`{"refId":"A","queryType":"traffic","metric":["rate"]}`,
		`{"refId":"A","queryType":"traffic","metrics":["qps"]}`,
		`{"refId":"A","queryType":"drift","methods":["psi","jsd"]}`,
		`{"refId":"A","queryType":"latency","percentiles":[0]}`,
		`{"refId":"A","queryType":"latency","percentiles":[101]}`,
		`{"refId":"A","queryType":"latency","window":"five minutes"}`,
		`{"refId":"A","queryType":"latency","output":"graph"}`,
		`{"refId":"A","queryType":"latency","model":["a"]}`,
		`{"refId":"A","queryType":"drift","thresholds":{"status":{"warning":1}}}`,
		`[1]`,
	} {
		_, err := Validate(json.RawMessage(raw))
		require.Error(t, err, raw)
	}
	q, err := Validate(json.RawMessage(`{"refId":"A","datasource":{"type":"x","uid":"y"},"hide":false,"queryType":"latency","model":"$model","percentiles":[50,99.9],"window":"1h30m","output":"latest"}`))
	require.NoError(t, err)
	require.Equal(t, query.TypeLatency, q.QueryType)
	require.Equal(t, []float64{50, 99.9}, q.Percentiles)
}

func TestVariableRefs(t *testing.T) {
	require.Equal(t, []string{"model", "version", "datasource", "x"}, VariableRefs("$model-${version}/${datasource:queryparam} $x"))
	require.Empty(t, VariableRefs("fraud-detector"))
	require.Empty(t, VariableRefs("$"))
}

// panelByTitle finds a panel whose title matches re.
func panelByTitle(t *testing.T, d *Dashboard, re string) Panel {
	t.Helper()
	r := regexp.MustCompile(re)
	for _, p := range d.AllPanels() {
		if r.MatchString(p.Title) {
			return p
		}
	}
	t.Fatalf("%s: no panel titled %s", d.UID, re)
	return Panel{}
}

func byUID(t *testing.T, uid string) *Dashboard {
	t.Helper()
	for _, d := range loadAll(t) {
		if d.UID == uid {
			return d
		}
	}
	t.Fatalf("no dashboard %s", uid)
	return nil
}

func targetQuery(t *testing.T, p Panel, i int) query.Query {
	t.Helper()
	require.Greater(t, len(p.Targets), i, p.Title)
	q, err := Validate(p.Targets[i].Raw)
	require.NoError(t, err)
	return q
}

// fieldDefaults decodes the parts of a panel's fieldConfig.defaults the tests look at.
type fieldDefaults struct {
	Defaults struct {
		Unit       string `json:"unit"`
		Thresholds struct {
			Steps []struct {
				Value *float64 `json:"value"`
				Color string   `json:"color"`
			} `json:"steps"`
		} `json:"thresholds"`
		Mappings mappings `json:"mappings"`
		Custom   struct {
			ThresholdsStyle struct {
				Mode string `json:"mode"`
			} `json:"thresholdsStyle"`
		} `json:"custom"`
	} `json:"defaults"`
}

// mapping is a value mapping ("value": options by value) or a special one ("special": options
// {match, result}, e.g. NaN shown as a dash).
type mapping struct {
	Type    string
	Options map[string]struct {
		Text  string `json:"text"`
		Color string `json:"color"`
	}
	Match  string
	Result struct {
		Text string `json:"text"`
	}
}

type mappings []mapping

func (m *mapping) UnmarshalJSON(b []byte) error {
	var head struct {
		Type    string          `json:"type"`
		Options json.RawMessage `json:"options"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return err
	}
	m.Type = head.Type
	if head.Type == "special" {
		var o struct {
			Match  string `json:"match"`
			Result struct {
				Text string `json:"text"`
			} `json:"result"`
		}
		if err := json.Unmarshal(head.Options, &o); err != nil {
			return err
		}
		m.Match, m.Result = o.Match, o.Result
		return nil
	}
	return json.Unmarshal(head.Options, &m.Options)
}

func defaultsOf(t *testing.T, p Panel) fieldDefaults {
	t.Helper()
	var f fieldDefaults
	require.NoError(t, json.Unmarshal(p.FieldConfig, &f), p.Title)
	return f
}

func TestOverviewDashboard(t *testing.T) {
	d := byUID(t, "modellens-overview")
	m, _ := d.Variable("model")
	require.True(t, m.IncludeAll)
	require.Equal(t, "*", m.AllValue, "All = every model")

	models := panelByTitle(t, d, `^Models$`)
	require.Equal(t, "stat", models.Type)
	require.Equal(t, query.TypeEndpoints, targetQuery(t, models, 0).QueryType)
	require.Contains(t, string(models.Options), `"distinctCount"`)

	rate := targetQuery(t, panelByTitle(t, d, `^Predictions/s \(5m`), 0)
	require.Equal(t, []string{"rate"}, rate.Metrics)
	require.Equal(t, "5m", rate.Window)
	p95 := targetQuery(t, panelByTitle(t, d, `^p95 latency \(1h\)`), 0)
	require.Equal(t, []float64{95}, p95.Percentiles)
	require.Equal(t, "1h", p95.Window)

	table := panelByTitle(t, d, `^Model endpoints$`)
	require.Equal(t, "table", table.Type)
	require.Equal(t, query.TypeEndpoints, targetQuery(t, table, 0).QueryType)
	requireStatusMappings(t, defaultsOf(t, table))
	require.Contains(t, string(table.FieldConfig), `"color-background"`)

	heat := 0
	for _, p := range d.AllPanels() {
		if p.Type == "heatmap" {
			heat++
			require.Contains(t, string(p.Options), `"calculate": false`)
		}
	}
	require.Equal(t, 2, heat, "heatmaps of predictions/s and latency per model")
}

// TestTablesShowNaNAsADash: a drift measure that does not apply to a row (chi2_pvalue of a numeric
// feature, ks_pvalue of a categorical one) is NaN; tables show a dash rather than "NaN".
func TestTablesShowNaNAsADash(t *testing.T) {
	for _, d := range loadAll(t) {
		for _, p := range d.AllPanels() {
			if p.Type != "table" {
				continue
			}
			found := false
			for _, m := range defaultsOf(t, p).Defaults.Mappings {
				found = found || (m.Type == "special" && m.Match == "nan" && m.Result.Text == "–")
			}
			require.True(t, found, "%s / %s: no NaN mapping", d.UID, p.Title)
		}
	}
}

// requireStatusMappings checks the ok/warning/drift value mappings coloured green/yellow/red.
func requireStatusMappings(t *testing.T, f fieldDefaults) {
	t.Helper()
	require.NotEmpty(t, f.Defaults.Mappings)
	opts := f.Defaults.Mappings[0].Options
	require.Equal(t, "value", f.Defaults.Mappings[0].Type)
	require.Equal(t, "green", opts["ok"].Color)
	require.Equal(t, "yellow", opts["warning"].Color)
	require.Equal(t, "red", opts["drift"].Color)
}

func TestDetailsDashboard(t *testing.T) {
	d := byUID(t, "modellens-details")
	overall := targetQuery(t, panelByTitle(t, d, `^Overall drift`), 0)
	require.Equal(t, query.OutputTable, overall.Output)
	require.ElementsMatch(t, []string{"tvd", "hellinger", "kld"}, overall.Methods)

	bar := panelByTitle(t, d, `^Reference vs current`)
	require.Equal(t, "barchart", bar.Type)
	require.Equal(t, "feature", bar.Repeat, "a bar chart shows one frame: one panel per feature")
	dist := targetQuery(t, bar, 0)
	require.Equal(t, query.TypeDistribution, dist.QueryType)
	require.Equal(t, []string{"$feature"}, dist.Features)

	lat := targetQuery(t, panelByTitle(t, d, `^Latency p50 / p95 / p99`), 0)
	require.Equal(t, []float64{50, 95, 99}, lat.Percentiles)
}

func TestPerformanceDashboard(t *testing.T) {
	d := byUID(t, "modellens-performance")
	w5 := targetQuery(t, panelByTitle(t, d, `^Latency percentiles \(5m`), 0)
	w1 := targetQuery(t, panelByTitle(t, d, `^Latency percentiles \(1h`), 0)
	require.Equal(t, "5m", w5.Window)
	require.Equal(t, "1h", w1.Window)

	count := panelByTitle(t, d, `^Prediction count`)
	require.Equal(t, "5m", targetQuery(t, count, 0).Window)
	require.Equal(t, "1h", targetQuery(t, count, 1).Window)
	require.Equal(t, []string{"errorRatio"}, targetQuery(t, panelByTitle(t, d, `^Error ratio`), 0).Metrics)

	versions := 0
	for _, p := range d.AllPanels() {
		for i := range p.Targets {
			if targetQuery(t, p, i).Version == query.WildcardAllVersions {
				versions++
			}
		}
	}
	require.GreaterOrEqual(t, versions, 2, "versions side by side (version \"*\")")
}

// designThresholds are DESIGN §5's default thresholds (warning, drift).
var designThresholds = map[string][2]float64{
	"psi": {0.1, 0.25}, "js": {0.05, 0.1}, "ks_pvalue": {0.15, 0.05}, "wasserstein_norm": {0.05, 0.1},
	"mlrun": {0.5, 0.7},
}

func TestDriftDashboard(t *testing.T) {
	d := byUID(t, "modellens-drift")

	st := panelByTitle(t, d, `^Drift status`)
	require.Equal(t, "state-timeline", st.Type)
	q := targetQuery(t, st, 0)
	require.Equal(t, []string{"status"}, q.Methods)
	f := defaultsOf(t, st)
	require.NotEmpty(t, f.Defaults.Mappings)
	opts := f.Defaults.Mappings[0].Options
	require.Equal(t, "green", opts["0"].Color)
	require.Equal(t, "yellow", opts["1"].Color)
	require.Equal(t, "red", opts["2"].Color)
	require.Equal(t, "drift", opts["2"].Text)

	// Every single-method drift time series draws that method's default thresholds as lines.
	seen := 0
	for _, p := range d.AllPanels() {
		if p.Type != "timeseries" {
			continue
		}
		q := targetQuery(t, p, 0)
		if len(q.Methods) != 1 || slices.Contains(query.MultivariateMethods, q.Methods[0]) {
			// Multivariate methods have bounds from the reference, not fixed thresholds.
			continue
		}
		want, ok := designThresholds[q.Methods[0]]
		require.True(t, ok, "panel %q: no default thresholds known for %s", p.Title, q.Methods[0])
		if q.Significance && strings.Contains(p.Title, "p-value") {
			// A significance p-value panel draws the p-value thresholds (query.defaultSignificanceThreshold).
			want = designThresholds["ks_pvalue"]
		}
		f := defaultsOf(t, p)
		require.Equal(t, "line", f.Defaults.Custom.ThresholdsStyle.Mode, p.Title)
		var values []float64
		for _, s := range f.Defaults.Thresholds.Steps {
			if s.Value != nil {
				values = append(values, *s.Value)
			}
		}
		require.ElementsMatch(t, want[:], values, "panel %q: threshold steps", p.Title)
		lastColor := f.Defaults.Thresholds.Steps[len(f.Defaults.Thresholds.Steps)-1].Color
		if want[0] > want[1] { // a p-value: low is drift, the highest step is fine
			require.Equal(t, "green", lastColor, p.Title)
		} else {
			require.Equal(t, "red", lastColor, p.Title)
		}
		seen++
	}
	require.GreaterOrEqual(t, seen, 4)

	pred := 0
	for _, p := range d.AllPanels() {
		for i := range p.Targets {
			q := targetQuery(t, p, i)
			if q.QueryType == query.TypeDrift && slices.Equal(q.Features, []string{"prediction", "score"}) {
				pred++
			}
		}
	}
	require.GreaterOrEqual(t, pred, 1, "prediction drift (features prediction and score)")

	// Significance: the critical value beside the measure, and corrected p-values.
	crit := targetQuery(t, panelByTitle(t, d, `critical value`), 0)
	require.True(t, crit.Significance)
	pv := targetQuery(t, panelByTitle(t, d, `p-value per feature, Benjamini`), 0)
	require.True(t, pv.Significance)
	require.Equal(t, query.CorrectionBH, pv.Correction)
	// Attribution, multivariate and seasonal drift.
	bins := targetQuery(t, panelByTitle(t, d, `^Which bins moved`), 0)
	require.Equal(t, query.TypeDistribution, bins.QueryType)
	attr := targetQuery(t, panelByTitle(t, d, `^Which features carry the drift`), 0)
	require.Equal(t, query.OutputTable, attr.Output)
	pca := targetQuery(t, panelByTitle(t, d, `^Multivariate drift`), 0)
	require.Equal(t, []string{query.MethodPCAReconstruction}, pca.Methods)
	seasonal := targetQuery(t, panelByTitle(t, d, `same hour yesterday`), 0)
	require.Equal(t, &query.Reference{Kind: query.ReferenceOffset, Offset: "1d"}, seasonal.Reference)
}

// TestDashboardLinksResolve: data links to /d/<uid> name a bundled dashboard.
func TestDashboardLinksResolve(t *testing.T) {
	link := regexp.MustCompile(`/d/([a-z0-9-]+)`)
	for _, d := range loadAll(t) {
		for _, m := range link.FindAllStringSubmatch(string(mustRead(t, d.Path)), -1) {
			require.Contains(t, wantUIDs, m[1], "%s links to unknown dashboard %s", d.UID, m[1])
		}
	}
}
