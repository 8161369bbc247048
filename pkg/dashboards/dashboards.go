// Package dashboards loads the bundled dashboards (dashboards/*.json) and the provisioned alert
// rules (provisioning/alerting/*.yaml) and extracts the ModelLens queries they contain, so tests
// can check every query against the query model and run it through the data source.
package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/modellens/mlmonitoring-datasource/pkg/pluginid"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
)

// PluginID is the data source type the dashboards and rules query.
const PluginID = pluginid.ID

// DatasourceVar is the name of the dashboards' data source variable; every panel and target refers
// to the data source as {"type": PluginID, "uid": "${datasource}"}.
const DatasourceVar = "datasource"

// DSRef is a data source reference in a dashboard.
type DSRef struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

// Variable is one template variable.
type Variable struct {
	Type       string          `json:"type"`
	Name       string          `json:"name"`
	Query      json.RawMessage `json:"query"`
	Datasource *DSRef          `json:"datasource"`
	Multi      bool            `json:"multi"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
}

// Target is one panel query, kept raw.
type Target struct {
	RefID      string          `json:"refId"`
	Datasource *DSRef          `json:"datasource"`
	Raw        json.RawMessage `json:"-"`
}

// Panel is one panel; rows carry their collapsed panels in Panels.
type Panel struct {
	ID          int             `json:"id"`
	Type        string          `json:"type"`
	Title       string          `json:"title"`
	Datasource  *DSRef          `json:"datasource"`
	Repeat      string          `json:"repeat"`
	GridPos     GridPos         `json:"gridPos"`
	Targets     []Target        `json:"targets"`
	Panels      []Panel         `json:"panels"`
	FieldConfig json.RawMessage `json:"fieldConfig"`
	Options     json.RawMessage `json:"options"`
}

// GridPos places a panel on the 24-column grid.
type GridPos struct {
	X int `json:"x"`
	Y int `json:"y"`
	W int `json:"w"`
	H int `json:"h"`
}

// UnmarshalJSON keeps each target's raw JSON next to its decoded reference fields.
func (t *Target) UnmarshalJSON(b []byte) error {
	type plain Target
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*t = Target(p)
	t.Raw = append(json.RawMessage(nil), b...)
	return nil
}

// Dashboard is one bundled dashboard.
type Dashboard struct {
	Path          string `json:"-"`
	UID           string `json:"uid"`
	Title         string `json:"title"`
	SchemaVersion int    `json:"schemaVersion"`
	Revision      int    `json:"revision"`
	Templating    struct {
		List []Variable `json:"list"`
	} `json:"templating"`
	Panels []Panel `json:"panels"`
}

// Load reads one dashboard file.
func Load(path string) (*Dashboard, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a dashboard file of this repository
	if err != nil {
		return nil, err
	}
	var d Dashboard
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the dashboard object", path)
	}
	d.Path = path
	return &d, nil
}

// LoadDir reads every *.json dashboard of a directory, sorted by file name.
func LoadDir(dir string) ([]*Dashboard, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	sort.Strings(paths)
	out := make([]*Dashboard, 0, len(paths))
	for _, p := range paths {
		d, err := Load(p)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}

// AllPanels returns every panel, rows' collapsed panels included, in document order.
func (d *Dashboard) AllPanels() []Panel {
	var out []Panel
	var walk func(ps []Panel)
	walk = func(ps []Panel) {
		for _, p := range ps {
			out = append(out, p)
			walk(p.Panels)
		}
	}
	walk(d.Panels)
	return out
}

// Variable returns the template variable with that name.
func (d *Dashboard) Variable(name string) (Variable, bool) {
	for _, v := range d.Templating.List {
		if v.Name == name {
			return v, true
		}
	}
	return Variable{}, false
}

// grafanaKeys are the keys Grafana itself adds to a query next to the data source's own model
// (DataQuery in @grafana/schema and the alerting query model).
var grafanaKeys = []string{"refId", "datasource", "hide", "key", "queryType", "intervalMs", "maxDataPoints",
	"interval", "timeRange", "editorMode"}

// QueryModel strips Grafana's own keys from a query and decodes the rest strictly into the
// ModelLens query model: an unknown or misspelt field ("metric" for "metrics") is an error, not a
// silently ignored key. queryType is kept: it is part of the model.
func QueryModel(raw json.RawMessage) (query.Query, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return query.Query{}, fmt.Errorf("query is not a JSON object: %w", err)
	}
	qt := m["queryType"]
	for _, k := range grafanaKeys {
		delete(m, k)
	}
	if qt != nil {
		m["queryType"] = qt
	}
	b, err := json.Marshal(m)
	if err != nil {
		return query.Query{}, err
	}
	var q query.Query
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		return query.Query{}, fmt.Errorf("query does not fit the query model: %w", err)
	}
	return q, nil
}

// Validate checks one ModelLens query as the data source will see it: strictly decoded into the
// query model (no unknown or misspelt fields), checked against the model's vocabularies (query
// types, sources, outputs, traffic metrics, drift methods, percentiles in (0, 100], windows that
// are Grafana durations), then parsed and validated by the data source's own query.Parse.
func Validate(raw json.RawMessage) (query.Query, error) {
	q, err := QueryModel(raw)
	if err != nil {
		return q, err
	}
	if err := checkVocabulary(q); err != nil {
		return q, err
	}
	return query.Parse(raw)
}

var windowPattern = regexp.MustCompile(`^([0-9]+(ms|s|m|h))+$|^[0-9]+[dwy]$`)

func checkVocabulary(q query.Query) error {
	if !slices.Contains(query.QueryTypes, q.QueryType) {
		return fmt.Errorf("unknown queryType %q", q.QueryType)
	}
	if q.Source != "" && !slices.Contains(query.Sources, q.Source) {
		return fmt.Errorf("unknown source %q", q.Source)
	}
	if q.Output != "" && !slices.Contains(query.Outputs, q.Output) {
		return fmt.Errorf("unknown output %q", q.Output)
	}
	if q.Window != "" && !windowPattern.MatchString(q.Window) {
		return fmt.Errorf("window %q is not a duration like 5m or 1h", q.Window)
	}
	for _, p := range q.Percentiles {
		if !(p > 0 && p <= 100) {
			return fmt.Errorf("percentile %v is outside (0, 100]", p)
		}
	}
	metrics, what := query.TrafficMetrics, "traffic"
	switch q.QueryType {
	case query.TypeDataQuality:
		metrics, what = query.QualityMetrics, "data-quality"
	case query.TypeSaturation:
		metrics, what = query.SaturationMetrics, "saturation"
	case query.TypePerformance:
		metrics, what = query.PerformanceMetrics, "performance"
	case query.TypeFreshness:
		metrics, what = query.FreshMetrics, "freshness"
	case query.TypeFeatureStats:
		metrics, what = query.FeatureStatsMetrics, "featureStats"
	case query.TypeSkew:
		metrics, what = query.SkewMetrics, "skew"
	}
	for _, m := range q.Metrics {
		if !slices.Contains(metrics, m) {
			return fmt.Errorf("unknown %s metric %q", what, m)
		}
	}
	for _, m := range q.Methods {
		if !slices.Contains(query.DriftMethods, m) && !slices.Contains(query.MultivariateMethods, m) {
			return fmt.Errorf("unknown drift method %q", m)
		}
	}
	for m := range q.Thresholds {
		if q.QueryType == query.TypeDataQuality {
			if !slices.Contains(query.QualityMetrics, m) || m == query.QualityStatus {
				return fmt.Errorf("thresholds for unknown data-quality metric %q", m)
			}
			continue
		}
		if !slices.Contains(query.DriftMethods, m) || m == query.MethodStatus {
			return fmt.Errorf("thresholds for unknown method %q", m)
		}
	}
	return nil
}

// VariableRefs returns the names of the template variables a string refers to ($name, ${name} or
// ${name:format}).
func VariableRefs(s string) []string {
	var out []string
	for i := 0; i < len(s); i++ {
		if s[i] != '$' {
			continue
		}
		rest := s[i+1:]
		if strings.HasPrefix(rest, "{") {
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				continue
			}
			name, _, _ := strings.Cut(rest[1:end], ":")
			out = append(out, name)
			i += end + 1
			continue
		}
		n := 0
		for n < len(rest) && (rest[n] == '_' || rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z' || rest[n] >= '0' && rest[n] <= '9') {
			n++
		}
		if n > 0 {
			out = append(out, rest[:n])
			i += n
		}
	}
	return out
}
