package dashboards

import (
	"encoding/json"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"
)

// ExprUID is the datasourceUid of server-side expressions in alert rules.
const ExprUID = "__expr__"

// RuleFile is a Grafana alerting provisioning file (apiVersion 1): the fields ModelLens rules use.
type RuleFile struct {
	APIVersion int         `yaml:"apiVersion"`
	Groups     []RuleGroup `yaml:"groups"`
}

// RuleGroup is one evaluation group.
type RuleGroup struct {
	OrgID    int    `yaml:"orgId"`
	Name     string `yaml:"name"`
	Folder   string `yaml:"folder"`
	Interval string `yaml:"interval"`
	Rules    []Rule `yaml:"rules"`
}

// Rule is one alert rule.
type Rule struct {
	UID          string            `yaml:"uid"`
	Title        string            `yaml:"title"`
	Condition    string            `yaml:"condition"`
	For          string            `yaml:"for"`
	NoDataState  string            `yaml:"noDataState"`
	ExecErrState string            `yaml:"execErrState"`
	DashboardUID string            `yaml:"dashboardUid"`
	PanelID      int               `yaml:"panelId"`
	IsPaused     bool              `yaml:"isPaused"`
	Labels       map[string]string `yaml:"labels"`
	Annotations  map[string]string `yaml:"annotations"`
	Data         []RuleQuery       `yaml:"data"`
}

// RuleQuery is one query or expression of a rule.
type RuleQuery struct {
	RefID             string `yaml:"refId"`
	DatasourceUID     string `yaml:"datasourceUid"`
	RelativeTimeRange struct {
		From int64 `yaml:"from"`
		To   int64 `yaml:"to"`
	} `yaml:"relativeTimeRange"`
	Model map[string]any `yaml:"model"`
}

// ModelJSON is the query model as Grafana stores it: the YAML mapping turned into JSON.
func (q RuleQuery) ModelJSON() (json.RawMessage, error) {
	b, err := json.Marshal(q.Model)
	if err != nil {
		return nil, fmt.Errorf("refId %s: model is not JSON-representable: %w", q.RefID, err)
	}
	return b, nil
}

// LoadRules reads an alerting provisioning file.
func LoadRules(path string) (*RuleFile, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a provisioning file of this repository
	if err != nil {
		return nil, err
	}
	var f RuleFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}

// DatasourceFile is a Grafana data source provisioning file (apiVersion 1).
type DatasourceFile struct {
	APIVersion  int `yaml:"apiVersion"`
	Datasources []struct {
		Name      string         `yaml:"name"`
		Type      string         `yaml:"type"`
		UID       string         `yaml:"uid"`
		Access    string         `yaml:"access"`
		URL       string         `yaml:"url"`
		IsDefault bool           `yaml:"isDefault"`
		JSONData  map[string]any `yaml:"jsonData"`
		// SecureJSONData holds the secrets Grafana encrypts (the demo's only).
		SecureJSONData map[string]string `yaml:"secureJsonData"`
	} `yaml:"datasources"`
}

// LoadDatasources reads a data source provisioning file.
func LoadDatasources(path string) (*DatasourceFile, error) {
	b, err := os.ReadFile(path) // #nosec G304 -- a provisioning file of this repository
	if err != nil {
		return nil, err
	}
	var f DatasourceFile
	if err := yaml.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &f, nil
}
