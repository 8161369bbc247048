package dashboards

import (
	"encoding/json"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
)

func loadRules(t *testing.T) *RuleFile {
	t.Helper()
	f, err := LoadRules(filepath.Join(repoRoot(t), "provisioning", "alerting", "modellens-rules.yaml"))
	require.NoError(t, err)
	return f
}

func loadDatasources(t *testing.T) *DatasourceFile {
	t.Helper()
	f, err := LoadDatasources(filepath.Join(repoRoot(t), "provisioning", "datasources", "modellens.yaml"))
	require.NoError(t, err)
	return f
}

func TestProvisionedDatasources(t *testing.T) {
	f := loadDatasources(t)
	require.Equal(t, 1, f.APIVersion)
	byUID := map[string]int{}
	defaults := 0
	for i, d := range f.Datasources {
		require.NotEmpty(t, d.UID, "%s: a stable uid (rules and links refer to it)", d.Name)
		_, dup := byUID[d.UID]
		require.False(t, dup, "uid %s twice", d.UID)
		byUID[d.UID] = i
		if d.IsDefault {
			defaults++
		}
		if d.Type != PluginID {
			continue
		}
		// The plugin parses exactly this jsonData when Grafana starts the instance.
		b, err := json.Marshal(d.JSONData)
		require.NoError(t, err)
		s, err := settings.Parse(b, d.SecureJSONData)
		require.NoError(t, err, "%s: jsonData rejected by settings.Parse", d.Name)
		switch d.UID {
		case "modellens-demo":
			require.True(t, s.Demo)
			require.True(t, d.IsDefault, "the demo data source is the default")
			require.Equal(t, "ModelLens (demo)", d.Name)
		case "modellens-server":
			require.False(t, s.Demo)
			require.Equal(t, "http://demo-model:8090/api/v1", s.PredictionLog.URL)
			require.Equal(t, "http://prometheus:9090", s.Prometheus.URL)
			require.Equal(t, settings.PresetGeneric, s.Prometheus.Preset)
			require.Equal(t, []settings.Endpoint{{Name: "demo-model", URL: "http://demo-model:8090", Protocol: settings.ProtocolOIP}}, s.Endpoints)
			require.Equal(t, "ModelLens (demo server)", d.Name)
		case "modellens-postgres":
			require.False(t, s.Demo)
			require.NotNil(t, s.SQL)
			require.Equal(t, "postgres://modellens_reader@postgres:5432/modellens?sslmode=disable", s.SQL.URL)
			require.Equal(t, "predictions", s.SQL.Records.Name)
			require.Equal(t, "reference", s.SQL.Reference.Name)
			require.NotEmpty(t, s.SQLPassword, "the password comes from secureJsonData.sqlPassword")
			require.Empty(t, s.PredictionLog.URL+s.Prometheus.URL, "records come from PostgreSQL only")
			require.Equal(t, "ModelLens (PostgreSQL)", d.Name)
		case feastDS:
			require.True(t, s.Demo, "records from the built-in fleet, which demo-feast's stores are computed from")
			require.Equal(t, "modellens_demo", s.Feast.Project)
			require.Equal(t, "/var/lib/feast/registry.db", s.Feast.RegistryPath)
			require.Equal(t, settings.FeastOnlineRedis, s.Feast.OnlineType)
			require.Equal(t, "redis:6379", s.Feast.OnlineAddress)
			require.Equal(t, "postgres://modellens_reader@postgres:5432/modellens?sslmode=disable", s.Feast.OfflineURL)
			require.NotEmpty(t, s.FeastOfflinePassword)
			require.Equal(t, "ModelLens (Feast)", d.Name)
		default:
			t.Errorf("unexpected ModelLens data source %s", d.UID)
		}
	}
	require.Contains(t, byUID, "modellens-demo")
	require.Contains(t, byUID, "modellens-server")
	require.Contains(t, byUID, "modellens-postgres")
	require.Contains(t, byUID, feastDS)
	require.Contains(t, byUID, "prometheus")
	require.Equal(t, "prometheus", f.Datasources[byUID["prometheus"]].Type)
	require.Equal(t, 1, defaults, "exactly one default data source")
}

var (
	noDataStates  = []string{"NoData", "Alerting", "OK", "KeepLast"}
	execErrStates = []string{"Alerting", "Error", "OK", "KeepLast"}
	// Grafana's scheduler evaluates on a 10s base interval; group intervals must be multiples.
	schedulerBase = 10 * time.Second
)

func parseDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := model.ParseDuration(s) // the parser Grafana's rule provisioning uses
	require.NoError(t, err, s)
	return time.Duration(d)
}

func TestAlertRules(t *testing.T) {
	f := loadRules(t)
	require.Equal(t, 1, f.APIVersion)
	ds := loadDatasources(t)
	ourUIDs := map[string]bool{}
	for _, d := range ds.Datasources {
		if d.Type == PluginID {
			ourUIDs[d.UID] = true
		}
	}
	dashboards := map[string]*Dashboard{}
	for _, d := range loadAll(t) {
		dashboards[d.UID] = d
	}

	uids := map[string]bool{}
	var kinds []string
	for _, g := range f.Groups {
		require.NotEmpty(t, g.Name)
		require.NotEmpty(t, g.Folder)
		iv := parseDuration(t, g.Interval)
		require.True(t, iv > 0 && iv%schedulerBase == 0, "group %s: interval %s must be a multiple of 10s", g.Name, g.Interval)
		for _, r := range g.Rules {
			t.Run(r.UID, func(t *testing.T) {
				require.NotEmpty(t, r.UID)
				require.False(t, uids[r.UID], "rule uid %s twice", r.UID)
				uids[r.UID] = true
				require.NotEmpty(t, r.Title)
				require.Contains(t, noDataStates, r.NoDataState)
				require.Contains(t, execErrStates, r.ExecErrState)
				require.Positive(t, parseDuration(t, r.For))

				refs := map[string]RuleQuery{}
				for _, q := range r.Data {
					require.NotEmpty(t, q.RefID)
					_, dup := refs[q.RefID]
					require.False(t, dup, "refId %s twice", q.RefID)
					refs[q.RefID] = q
					require.Equal(t, q.RefID, q.Model["refId"], "model.refId must match refId %s", q.RefID)
				}
				cond, ok := refs[r.Condition]
				require.True(t, ok, "condition %s is not a refId of the rule", r.Condition)
				require.Equal(t, ExprUID, cond.DatasourceUID, "the condition is an expression")
				require.Equal(t, "threshold", cond.Model["type"])

				dataQueries := 0
				feastRule := false
				for _, q := range r.Data {
					if q.DatasourceUID == ExprUID {
						// Expressions refer to existing refIds.
						expr, _ := q.Model["expression"].(string)
						require.NotEmpty(t, expr, "expression %s", q.RefID)
						for _, ref := range append(VariableRefs(expr), strings.TrimPrefix(expr, "$")) {
							if _, ok := refs[ref]; !ok && !strings.ContainsAny(ref, " +-*/()") {
								t.Errorf("expression %s refers to unknown refId %s", q.RefID, ref)
							}
						}
						switch q.Model["type"] {
						case "threshold":
							conds, _ := q.Model["conditions"].([]any)
							require.Len(t, conds, 1, "a threshold expression has exactly one condition")
						case "reduce":
							require.NotEmpty(t, q.Model["reducer"])
						case "math":
						default:
							t.Errorf("expression %s has unknown type %v", q.RefID, q.Model["type"])
						}
						continue
					}
					dataQueries++
					require.True(t, ourUIDs[q.DatasourceUID], "refId %s: datasourceUid %s is not a provisioned ModelLens data source", q.RefID, q.DatasourceUID)
					if ref, ok := q.Model["datasource"].(map[string]any); ok {
						require.Equal(t, q.DatasourceUID, ref["uid"])
						require.Equal(t, PluginID, ref["type"])
					}
					raw, err := q.ModelJSON()
					require.NoError(t, err)
					pq, err := Validate(raw)
					require.NoError(t, err, "refId %s: %s", q.RefID, raw)
					require.Equal(t, query.OutputLatest, pq.Output, "alert queries ask for output latest (numeric frames)")
					// Alert rules never see template variables.
					for _, s := range append([]string{pq.Model, pq.Version, pq.Window}, pq.Features...) {
						require.Empty(t, VariableRefs(s), "refId %s: %q holds a template variable", q.RefID, s)
					}
					kinds = append(kinds, string(pq.QueryType))
					if pq.QueryType == query.TypeFreshness {
						feastRule = true
						continue // freshness is judged at the end of the range, per feature view: no window
					}
					require.NotEmpty(t, pq.Window, "refId %s: the window the rule judges must be explicit", q.RefID)
					w := parseDuration(t, pq.Window)
					rng := time.Duration(q.RelativeTimeRange.From-q.RelativeTimeRange.To) * time.Second
					require.GreaterOrEqual(t, rng, w, "refId %s: relativeTimeRange shorter than the window", q.RefID)
				}
				require.Equal(t, 1, dataQueries)

				// Labels: Grafana expands $VAR in provisioned labels, so a template there must write $$.
				for k, v := range r.Labels {
					require.NotRegexp(t, regexp.MustCompile(`(^|[^$])\$([^$]|$)`), v, "label %s=%q: write $$ for a literal $", k, v)
				}
				// Annotations quote the instance's labels.
				sum := r.Annotations["summary"]
				if feastRule {
					require.Contains(t, sum, "$labels.featureView")
				} else {
					require.Contains(t, sum, "$labels.model")
					require.Contains(t, sum+r.Annotations["description"], "$labels.version")
				}
				for _, ref := range regexp.MustCompile(`\$values\.([A-Za-z0-9_]+)`).FindAllStringSubmatch(sum+r.Annotations["description"], -1) {
					q, ok := refs[ref[1]]
					require.True(t, ok, "annotation quotes unknown refId %s", ref[1])
					require.Equal(t, ExprUID, q.DatasourceUID, "Grafana exposes the values of expressions only, not of $values.%s", ref[1])
				}
				if r.DashboardUID != "" {
					d, ok := dashboards[r.DashboardUID]
					require.True(t, ok, "dashboardUid %s is not a bundled dashboard", r.DashboardUID)
					found := false
					for _, p := range d.AllPanels() {
						found = found || p.ID == r.PanelID
					}
					require.True(t, found, "panel %d not in %s", r.PanelID, r.DashboardUID)
				}
			})
		}
	}
	slices.Sort(kinds)
	require.Equal(t, []string{"dataQuality", "drift", "drift", "freshness", "latency", "performance", "predictions", "saturation", "traffic"}, kinds)
}

// TestAlertRuleTemplates pins what each rule watches: thresholds, for durations and queries.
func TestAlertRuleTemplates(t *testing.T) {
	type want struct {
		queryType query.QueryType
		op        string
		threshold float64
		forDur    string
		check     func(t *testing.T, q query.Query)
		// model is the model the rule watches: "*" (every model) unless its threshold only makes
		// sense for one model.
		model string
	}
	wants := map[string]want{
		"modellens-p95-latency": {query.TypeLatency, "gt", 500, "5m", func(t *testing.T, q query.Query) {
			require.Equal(t, []float64{95}, q.Percentiles)
			require.Equal(t, "5m", q.Window)
		}, ""},
		"modellens-error-ratio": {query.TypeTraffic, "gt", 0.05, "5m", func(t *testing.T, q query.Query) {
			require.Equal(t, []string{"errorRatio"}, q.Metrics)
		}, ""},
		"modellens-feature-drift": {query.TypeDrift, "gte", 2, "10m", func(t *testing.T, q query.Query) {
			require.Equal(t, []string{"status"}, q.Methods)
			require.Empty(t, q.Features, "every feature")
		}, ""},
		"modellens-prediction-drift": {query.TypeDrift, "gt", 0.1, "10m", func(t *testing.T, q query.Query) {
			require.Equal(t, []string{"js"}, q.Methods)
			require.Equal(t, []string{"prediction"}, q.Features)
		}, ""},
		"modellens-null-ratio": {query.TypeDataQuality, "gt", 0.2, "5m", func(t *testing.T, q query.Query) {
			require.Equal(t, []string{"nullRatio"}, q.Metrics)
			require.Equal(t, "10m", q.Window)
			require.Empty(t, q.Features, "every feature")
		}, ""},
		"modellens-gpu-saturation": {query.TypeSaturation, "gt", 0.9, "10m", func(t *testing.T, q query.Query) {
			require.Equal(t, []string{"gpu"}, q.Metrics)
			require.Equal(t, "2m", q.Window)
		}, ""},
		"modellens-median-score": {query.TypePredictions, "lt", 0.6, "15m", func(t *testing.T, q query.Query) {
			require.Equal(t, []float64{50}, q.Percentiles)
			require.Equal(t, []string{"score"}, q.Features)
		}, ""},
		// Accuracy thresholds depend on the model's classes: the rule names the demo's binary model.
		"modellens-accuracy": {query.TypePerformance, "lt", 0.85, "10m", func(t *testing.T, q query.Query) {
			require.Equal(t, []string{"accuracy"}, q.Metrics)
			require.True(t, q.Estimated)
			require.Equal(t, "fraud", q.PositiveClass)
			require.Equal(t, "2h", q.Window)
		}, "fraud-detector"},
		// Feature views, not models: every view of the Feast project, status only.
		"modellens-feature-view-stale": {query.TypeFreshness, "gte", 2, "5m", func(t *testing.T, q query.Query) {
			require.Equal(t, []string{query.FreshStatus}, q.Metrics)
			require.Equal(t, "*", q.FeatureView)
			require.Equal(t, query.SourceFeast, q.Source)
		}, "-"},
	}
	seen := 0
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			w, ok := wants[r.UID]
			require.True(t, ok, "unexpected rule %s", r.UID)
			seen++
			require.Equal(t, parseDuration(t, w.forDur), parseDuration(t, r.For), r.UID)
			var pq query.Query
			for _, q := range r.Data {
				if q.DatasourceUID != ExprUID {
					raw, err := q.ModelJSON()
					require.NoError(t, err)
					pq, err = Validate(raw)
					require.NoError(t, err)
					model := w.model
					if model == "" {
						model = "*"
					}
					if model != "-" {
						require.Equal(t, model, pq.Model, "%s: the model it watches", r.UID)
						require.Equal(t, "*", pq.Version, "%s: one instance per version", r.UID)
					}
				}
				if q.RefID == r.Condition {
					ev := q.Model["conditions"].([]any)[0].(map[string]any)["evaluator"].(map[string]any)
					require.Equal(t, w.op, ev["type"], r.UID)
					require.Equal(t, []any{w.threshold}, normalise(ev["params"]), r.UID)
				}
			}
			require.Equal(t, w.queryType, pq.QueryType, r.UID)
			w.check(t, pq)
		}
	}
	require.Equal(t, len(wants), seen)
}

// normalise turns YAML integers into float64 so thresholds compare as numbers.
func normalise(v any) []any {
	xs, _ := v.([]any)
	out := make([]any, len(xs))
	for i, x := range xs {
		switch n := x.(type) {
		case int:
			out[i] = float64(n)
		default:
			out[i] = x
		}
	}
	return out
}
