package dashboards

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// A fixed range: the demo fleet is a pure function of (seed, model, time), so the answers are the
// same on every run.
var (
	runTo   = time.Date(2026, 3, 10, 14, 0, 0, 0, time.UTC)
	runFrom = runTo.Add(-2 * time.Hour)
)

// binding is one choice of variable values, as the frontend's applyTemplateVariables passes them
// on: the model, version "" (All: every version together), and the selected features: nil for All (the variable's All
// value "*" makes the frontend drop the field, so the backend default, every feature, applies),
// else the selection. A repeated panel gets one feature.
type binding struct {
	model    string
	features []string
	all      []string // every input feature of the model, for repeated panels
}

// interpolate rewrites a target the way the frontend does before it reaches the backend.
func interpolate(t *testing.T, raw json.RawMessage, b binding, repeatFeature string) json.RawMessage {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(raw, &m))
	if s, ok := m["model"].(string); ok && s == "$model" {
		m["model"] = b.model
	}
	if s, ok := m["version"].(string); ok && s == "$version" {
		m["version"] = ""
	}
	if fs, ok := m["features"].([]any); ok {
		var out []any
		all := false
		for _, f := range fs {
			switch {
			case f == "$feature" && repeatFeature != "":
				out = append(out, repeatFeature)
			case f == "$feature" && b.features == nil:
				all = true
			case f == "$feature":
				for _, name := range b.features {
					out = append(out, name)
				}
			default:
				out = append(out, f)
			}
		}
		if all {
			delete(m, "features")
		} else {
			m["features"] = out
		}
	}
	out, err := json.Marshal(m)
	require.NoError(t, err)
	return out
}

// fieldRefs are the field names or patterns a panel's options, overrides and transformations refer
// to: each must match a field the data source returns, or the panel silently shows something else.
func fieldRefs(t *testing.T, p Panel, transformations json.RawMessage) []string {
	t.Helper()
	var refs []string
	var opts struct {
		ReduceOptions struct {
			Fields string `json:"fields"`
		} `json:"reduceOptions"`
		XField string `json:"xField"`
	}
	if len(p.Options) > 0 {
		require.NoError(t, json.Unmarshal(p.Options, &opts))
	}
	if opts.ReduceOptions.Fields != "" {
		refs = append(refs, opts.ReduceOptions.Fields)
	}
	if opts.XField != "" {
		refs = append(refs, opts.XField)
	}
	var fc struct {
		Overrides []struct {
			Matcher struct {
				ID      string `json:"id"`
				Options string `json:"options"`
			} `json:"matcher"`
		} `json:"overrides"`
	}
	require.NoError(t, json.Unmarshal(p.FieldConfig, &fc))
	for _, o := range fc.Overrides {
		if o.Matcher.ID == "byName" || o.Matcher.ID == "byRegexp" {
			refs = append(refs, o.Matcher.Options)
		}
	}
	var tr []struct {
		ID      string `json:"id"`
		Options struct {
			Filters []struct {
				FieldName string `json:"fieldName"`
			} `json:"filters"`
			IncludeByName map[string]bool `json:"includeByName"`
		} `json:"options"`
	}
	if len(transformations) > 0 {
		require.NoError(t, json.Unmarshal(transformations, &tr))
	}
	for _, x := range tr {
		for _, f := range x.Options.Filters {
			refs = append(refs, f.FieldName)
		}
		for name := range x.Options.IncludeByName {
			refs = append(refs, name)
		}
	}
	return refs
}

// matches applies a Grafana field matcher pattern: /regex/flags or an exact name.
func matches(pattern, name string) bool {
	if strings.HasPrefix(pattern, "/") {
		end := strings.LastIndex(pattern, "/")
		expr := pattern[1:end]
		if strings.Contains(pattern[end:], "i") {
			expr = "(?i)" + expr
		}
		return regexp.MustCompile(expr).MatchString(name)
	}
	return pattern == name
}

// labelRef is a series label in a display name template: ${__field.labels.version}.
var labelRef = regexp.MustCompile(`\$\{__field\.labels\.(\w+)\}`)

// displayNameOf is the panel's default display name template. A template that comes out empty
// for a series makes Grafana fall back to the raw label set as the series name.
func displayNameOf(t *testing.T, p Panel) string {
	t.Helper()
	var fc struct {
		Defaults struct {
			DisplayName string `json:"displayName"`
		} `json:"defaults"`
	}
	require.NoError(t, json.Unmarshal(p.FieldConfig, &fc))
	return fc.Defaults.DisplayName
}

func run(t *testing.T, h backend.QueryDataHandler, raw json.RawMessage, alert bool) backend.DataResponse {
	t.Helper()
	var probe struct {
		RefID     string `json:"refId"`
		QueryType string `json:"queryType"`
	}
	require.NoError(t, json.Unmarshal(raw, &probe))
	req := &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: probe.RefID, QueryType: probe.QueryType, JSON: raw,
		TimeRange: backend.TimeRange{From: runFrom, To: runTo}, Interval: 5 * time.Minute, MaxDataPoints: 500,
	}}}
	if alert {
		req.Headers = map[string]string{backend.FromAlertHeaderName: "true"}
	}
	resp, err := h.QueryData(context.Background(), req)
	require.NoError(t, err)
	return resp.Responses[probe.RefID]
}

// TestDashboardQueriesRunOnTheDemoFleet opens every dashboard for every demo model and runs each
// panel query through the real query handler: no query errors, every panel gets data, and every
// field a panel refers to by name exists in what it gets.
func TestDashboardQueriesRunOnTheDemoFleet(t *testing.T) {
	ctx := context.Background()
	fleet := demo.NewFleet(demo.DefaultSeed)
	h := query.New(query.Deps{Demo: fleet})
	models, err := fleet.Models(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, models)

	for _, d := range loadAll(t) {
		if d.UID == feastDashboard {
			continue // it reads Feast stores: TestFeatureStoreDashboardRunsOnTheDemoFeastStores
		}
		var raw struct {
			Panels []json.RawMessage `json:"panels"`
		}
		require.NoError(t, json.Unmarshal(mustRead(t, d.Path), &raw))
		transformations := map[int]json.RawMessage{}
		var collect func(ps []json.RawMessage)
		collect = func(ps []json.RawMessage) {
			for _, p := range ps {
				var x struct {
					ID              int               `json:"id"`
					Transformations json.RawMessage   `json:"transformations"`
					Panels          []json.RawMessage `json:"panels"`
				}
				require.NoError(t, json.Unmarshal(p, &x))
				transformations[x.ID] = x.Transformations
				collect(x.Panels)
			}
		}
		collect(raw.Panels)

		bindings := []binding{{model: query.WildcardAllVersions}}
		if m, _ := d.Variable("model"); !m.IncludeAll {
			bindings = nil
			for _, m := range models {
				var all []string
				for _, f := range m.Features {
					all = append(all, f.Name)
				}
				bindings = append(bindings, binding{model: m.Name, all: all})
				// One numeric and one categorical feature picked by hand.
				picked := map[source.Kind]bool{}
				for _, f := range m.Features {
					if !picked[f.Type] {
						picked[f.Type] = true
						bindings = append(bindings, binding{model: m.Name, features: []string{f.Name}, all: all})
					}
				}
			}
		}
		for _, b := range bindings {
			for _, p := range d.AllPanels() {
				if p.Type == "row" {
					continue
				}
				repeats := []string{""}
				if p.Repeat == "feature" {
					repeats = b.features
					if repeats == nil {
						repeats = b.all
					}
				}
				for _, rf := range repeats {
					name := fmt.Sprintf("%s/%s%v/%s/%s", d.UID, b.model, b.features, p.Title, rf)
					var names []string
					frameCount := 0
					var seriesLabels []data.Labels
					for _, tg := range p.Targets {
						r := run(t, h, interpolate(t, tg.Raw, b, rf), false)
						require.NoError(t, r.Error, "%s target %s", name, tg.RefID)
						frameCount += len(r.Frames)
						// The panel header shows that the data is synthetic, whatever frame it draws.
						for i, f := range r.Frames {
							require.True(t, f.Meta != nil && slices.ContainsFunc(f.Meta.Notices, func(n data.Notice) bool {
								return n.Text == query.SyntheticNotice
							}), "%s target %s frame %d: no synthetic-data notice", name, tg.RefID, i)
						}
						for _, f := range r.Frames {
							for _, fld := range f.Fields {
								if fld.Type() != data.FieldTypeTime && fld.Type() != data.FieldTypeNullableTime && fld.Labels != nil {
									seriesLabels = append(seriesLabels, fld.Labels)
								}
							}
						}
						for _, f := range r.Frames {
							for _, fld := range f.Fields {
								names = append(names, fld.Name)
								if len(fld.Labels) > 0 {
									// Grafana's display name of a labelled series carries its labels,
									// which byRegexp overrides match.
									names = append(names, fld.Name+" "+fld.Labels.String())
								}
							}
						}
					}
					require.NotEmpty(t, names, "%s: no data", name)
					if dn := displayNameOf(t, p); dn != "" {
						for _, l := range seriesLabels {
							got := strings.TrimSpace(labelRef.ReplaceAllStringFunc(dn, func(m string) string {
								return l[labelRef.FindStringSubmatch(m)[1]]
							}))
							require.NotEmpty(t, got, "%s: display name %q is empty for the series %v", name, dn, l)
						}
					}
					if p.Type == "barchart" {
						// A bar chart draws frames[0] only: anything more would be silently dropped.
						require.Equal(t, 1, frameCount, "%s: a bar chart needs exactly one frame", name)
					}
					for _, ref := range fieldRefs(t, p, transformations[p.ID]) {
						found := false
						for _, n := range names {
							found = found || matches(ref, n)
						}
						require.True(t, found, "%s refers to field %q, the data has %q", name, ref, names)
					}
				}
			}
		}
	}
}

// annotationLabel is a label printed by an alert annotation template: {{ $labels.model }}.
var annotationLabel = regexp.MustCompile(`\$labels\.(\w+)`)

// annotationValue is an expression result printed by an annotation: {{ $values.B.Value }}.
var annotationValue = regexp.MustCompile(`\$values\.(\w+)`)

// TestAlertRuleAnnotationsNameTheirExpressions: every $values.X an annotation prints is a refId
// of the rule, so the text never shows "<no value>".
func TestAlertRuleAnnotationsNameTheirExpressions(t *testing.T) {
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			refs := map[string]bool{}
			for _, q := range r.Data {
				refs[q.RefID] = true
			}
			for key, text := range r.Annotations {
				for _, m := range annotationValue.FindAllStringSubmatch(text, -1) {
					require.True(t, refs[m[1]], "%s: annotation %s prints $values.%s, not a refId of the rule", r.UID, key, m[1])
				}
			}
		}
	}
}

// TestAlertRuleQueriesRunOnTheDemoFleet runs each rule's data query as Grafana alerting does and
// checks that the frames are what a Threshold/Reduce can evaluate directly.
func TestAlertRuleQueriesRunOnTheDemoFleet(t *testing.T) {
	h := query.New(query.Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			for _, q := range r.Data {
				if q.DatasourceUID == ExprUID || q.DatasourceUID == feastDS {
					continue // Feast rules: TestFeatureViewStaleRuleFires
				}
				raw, err := q.ModelJSON()
				require.NoError(t, err)
				resp := run(t, h, raw, true)
				require.NoError(t, resp.Error, r.UID)
				require.NotEmpty(t, resp.Frames, r.UID)
				require.NoError(t, frames.CheckAlertReady(resp.Frames), r.UID)
				raw2, err := q.ModelJSON()
				require.NoError(t, err)
				pq, err := Validate(raw2)
				require.NoError(t, err)
				numbers := 0
				for _, f := range resp.Frames {
					for _, fld := range f.Fields {
						require.NotEqual(t, data.FieldTypeTime, fld.Type(), "%s: alert frames carry no time field", r.UID)
						if !fld.Type().Numeric() {
							continue
						}
						numbers++
						require.Contains(t, fld.Labels, "model", r.UID)
						require.Contains(t, fld.Labels, "version", r.UID)
						// Every label the summary and description print is on every alert instance.
						for key, text := range r.Annotations {
							for _, m := range annotationLabel.FindAllStringSubmatch(text, -1) {
								require.NotEmpty(t, fld.Labels[m[1]], "%s: annotation %s prints $labels.%s, missing from %v", r.UID, key, m[1], fld.Labels)
							}
						}
						// The threshold applies to every number the query returns: a query restricted to
						// some features (or outputs) must return only those.
						if len(pq.Features) > 0 && !r.IsPaused {
							key := "feature"
							if pq.QueryType == query.TypePredictions {
								key = "output"
							}
							require.Contains(t, pq.Features, fld.Labels[key], "%s: %s returned a number for %s=%q", r.UID, pq.QueryType, key, fld.Labels[key])
						}
					}
				}
				require.Positive(t, numbers, r.UID)
				if r.IsPaused {
					t.Logf("%s is paused: not checking that it receives only the series it asks for", r.UID)
				}
			}
		}
	}
}

// evaluate runs a rule's data query at time `to` and applies the rule's threshold to every number,
// as Grafana does after the (no-op) Reduce: it returns the label sets that fire.
func evaluate(t *testing.T, h *query.Handler, r Rule, to time.Time) []data.Labels {
	t.Helper()
	var raw json.RawMessage
	var op string
	var limit float64
	for _, q := range r.Data {
		if q.DatasourceUID != ExprUID {
			var err error
			raw, err = q.ModelJSON()
			require.NoError(t, err)
			window := time.Duration(q.RelativeTimeRange.From-q.RelativeTimeRange.To) * time.Second
			saved := [2]time.Time{runFrom, runTo}
			runFrom, runTo = to.Add(-window), to
			defer func() { runFrom, runTo = saved[0], saved[1] }()
		}
		if q.RefID == r.Condition {
			ev := q.Model["conditions"].([]any)[0].(map[string]any)["evaluator"].(map[string]any)
			op = ev["type"].(string)
			limit = normalise(ev["params"])[0].(float64)
		}
	}
	resp := run(t, h, raw, true)
	require.NoError(t, resp.Error)
	var firing []data.Labels
	for _, f := range resp.Frames {
		for _, fld := range f.Fields {
			if !fld.Type().Numeric() || fld.Len() == 0 {
				continue
			}
			v, err := fld.FloatAt(0)
			require.NoError(t, err)
			fire := map[string]bool{"gt": v > limit, "gte": v >= limit, "lt": v < limit, "lte": v <= limit}
			f, ok := fire[op]
			require.True(t, ok, "threshold type %s", op)
			if f {
				firing = append(firing, fld.Labels)
			}
		}
	}
	return firing
}

// TestDriftRulesFireOnTheDemoDrift evaluates the drift rules on the demo fleet, whose input drift is
// known (demo.DriftStart to midnight UTC, in demo.DriftedFeatures): after the start, the feature
// drift rule fires for exactly the drifted features of every model and version, and the prediction
// drift rule fires; before it, neither fires, all night long.
func TestDriftRulesFireOnTheDemoDrift(t *testing.T) {
	h := query.New(query.Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	rules := map[string]Rule{}
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			rules[r.UID] = r
		}
	}
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	before := day.Add(demo.DriftStart - 30*time.Minute)
	during := day.Add(demo.DriftStart + 8*time.Hour)
	require.False(t, demo.DriftActive(before.Add(-time.Hour)))
	require.True(t, demo.DriftActive(during.Add(-time.Hour)))

	require.Empty(t, evaluate(t, h, rules["modellens-feature-drift"], before))
	// No false alarms over the healthy night: every 20 minutes from 01:00 to 06:00, on three days.
	for d := 0; d < 3; d++ {
		for at := time.Hour; at <= demo.DriftStart; at += 20 * time.Minute {
			when := day.Add(time.Duration(d)*24*time.Hour + at)
			require.Empty(t, evaluate(t, h, rules["modellens-feature-drift"], when), "feature drift fired at %s", when)
		}
	}
	got := map[string][]string{}
	for _, l := range evaluate(t, h, rules["modellens-feature-drift"], during) {
		key := l["model"] + "/" + l["version"]
		got[key] = append(got[key], l["feature"])
	}
	models, err := demo.NewFleet(demo.DefaultSeed).Models(context.Background())
	require.NoError(t, err)
	want := map[string][]string{}
	for _, m := range models {
		for _, v := range m.Versions {
			if fs := demo.DriftedFeatures[m.Name]; len(fs) > 0 {
				want[m.Name+"/"+v] = fs
			}
		}
	}
	require.Equal(t, len(want), len(got), "firing %v, drifted %v", got, want)
	for k, fs := range want {
		require.ElementsMatch(t, fs, got[k], k)
	}

	require.Empty(t, evaluate(t, h, rules["modellens-prediction-drift"], before))
	require.NotEmpty(t, evaluate(t, h, rules["modellens-prediction-drift"], during))
}

// TestNullRatioRuleFiresOnTheDemoNullHour evaluates the null-ratio rule on the demo fleet: inside
// demo.NullIncident it fires for exactly the incident's model and feature (every version); before
// and after it, and every 30 minutes over a whole day outside it, it does not fire.
func TestNullRatioRuleFiresOnTheDemoNullHour(t *testing.T) {
	h := query.New(query.Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	rule := ruleByUID(t, "modellens-null-ratio")
	inc := demo.NullIncident
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	start := day.Add(inc.Start)

	firing := evaluate(t, h, rule, start.Add(30*time.Minute))
	require.NotEmpty(t, firing)
	for _, l := range firing {
		require.Equal(t, inc.Model, l["model"], "%v", l)
		require.Equal(t, inc.Feature, l["feature"], "%v", l)
	}
	require.Len(t, firing, len(demo.VersionShares[inc.Model]), "one instance per version: %v", firing)

	for at := time.Duration(0); at < 24*time.Hour; at += 30 * time.Minute {
		when := day.Add(at)
		// The rule's 10-minute window overlaps the incident from its start to 10 minutes after.
		if !when.Before(start) && !when.After(start.Add(inc.Duration+10*time.Minute)) {
			continue
		}
		require.Empty(t, evaluate(t, h, rule, when), "null ratio fired at %s", when)
	}
}

// TestGPURuleFiresOnTheDemoSaturation evaluates the GPU rule on the demo fleet as Grafana does
// with its 10-minute pending period: the condition holds at every 1-minute evaluation for 10
// minutes inside demo.GPUSaturation (so the alert fires), and never holds outside it over a day.
func TestGPURuleFiresOnTheDemoSaturation(t *testing.T) {
	h := query.New(query.Deps{Demo: demo.NewFleet(demo.DefaultSeed)})
	rule := ruleByUID(t, "modellens-gpu-saturation")
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	start := day.Add(demo.GPUSaturation.Start)
	pending := parseDuration(t, rule.For)
	require.Equal(t, 10*time.Minute, pending)

	// From 2 minutes into the period (the rule's window is 2m) the condition holds at every
	// evaluation for the pending period: the alert fires at start + 12m.
	for at := start.Add(2 * time.Minute); !at.After(start.Add(2*time.Minute + pending)); at = at.Add(time.Minute) {
		firing := evaluate(t, h, rule, at)
		require.NotEmpty(t, firing, "GPU condition not met at %s", at)
		for _, l := range firing {
			require.Equal(t, demo.DemoGPU, l["gpu"])
			require.NotEmpty(t, l["model"])
			require.NotEmpty(t, l["version"])
		}
	}
	for at := time.Duration(0); at < 24*time.Hour; at += 20 * time.Minute {
		when := day.Add(at)
		if !when.Before(start) && !when.After(start.Add(demo.GPUSaturation.Duration+2*time.Minute)) {
			continue
		}
		require.Empty(t, evaluate(t, h, rule, when), "GPU rule fired at %s", when)
	}
}

func ruleByUID(t *testing.T, uid string) Rule {
	t.Helper()
	for _, g := range loadRules(t).Groups {
		for _, r := range g.Rules {
			if r.UID == uid {
				return r
			}
		}
	}
	t.Fatalf("no rule %s", uid)
	return Rule{}
}
