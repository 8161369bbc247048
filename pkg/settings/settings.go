// Package settings parses and validates a ModelLens data source's jsonData and secureJsonData
// (DESIGN §3) once, into typed values the rest of the plugin uses.
package settings

import (
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// Preset names the metric vocabulary of a model server scraped by Prometheus.
type Preset string

// Prometheus presets (DESIGN §3).
const (
	PresetGeneric    Preset = "generic"
	PresetKServe     Preset = "kserve"
	PresetBentoML    Preset = "bentoml"
	PresetSeldon     Preset = "seldon"
	PresetTriton     Preset = "triton"
	PresetTorchServe Preset = "torchserve"
	PresetMLServer   Preset = "mlserver"
	// PresetFeast reads the Feast feature server's own metrics (traffic, latency, freshness).
	PresetFeast Preset = "feast"
)

// Presets lists every known preset in documentation order.
var Presets = []Preset{PresetGeneric, PresetKServe, PresetBentoML, PresetSeldon, PresetTriton, PresetTorchServe, PresetMLServer, PresetFeast}

// Endpoint protocols.
const (
	ProtocolOIP     = "oip"
	ProtocolTriton  = "triton"
	ProtocolMetrics = "metrics"
)

// Protocols lists every endpoint protocol in documentation order.
var Protocols = []string{ProtocolOIP, ProtocolTriton, ProtocolMetrics}

// Defaults.
const (
	DefaultTimeout    = limits.DefaultTimeout
	DefaultMaxSamples = limits.DefaultMaxSamples
	MaxTimeout        = limits.MaxTimeout
)

// PredictionLog configures the Prediction Log API source (DESIGN §6).
type PredictionLog struct {
	URL string `json:"url"`
}

// Prometheus configures the Prometheus-compatible metrics source.
type Prometheus struct {
	URL          string `json:"url"`
	Preset       Preset `json:"preset"`
	ModelLabel   string `json:"modelLabel"`
	VersionLabel string `json:"versionLabel"`
	// TenantID, when set, is sent as the X-Scope-OrgID header (Mimir, Cortex).
	TenantID string `json:"tenantId,omitempty"`
}

// Endpoint is one model endpoint the plugin may call (health, metadata).
type Endpoint struct {
	Name     string `json:"name"`
	URL      string `json:"url"`
	Protocol string `json:"protocol"`
}

// Feast configures a Feast feature store (DESIGN §3 `feast.*`).
type Feast struct {
	// Project is the Feast project whose objects are read (required with a registry).
	Project      string            `json:"project"`
	Registry     FeastRegistry     `json:"registry"`
	OnlineStore  FeastOnlineStore  `json:"onlineStore"`
	OfflineStore FeastOfflineStore `json:"offlineStore"`
}

// FeastRegistry says where the Feast registry is: exactly one of a registry file's path, a SQL
// registry's PostgreSQL URL, or the REST registry server's base URL.
type FeastRegistry struct {
	Path string `json:"path"`
	SQL  string `json:"sql"`
	URL  string `json:"url"`
}

// Feast online store types.
const (
	FeastOnlineRedis    = "redis"
	FeastOnlinePostgres = "postgres"
)

// FeastOnlineTypes lists the supported online store types in documentation order.
var FeastOnlineTypes = []string{FeastOnlineRedis, FeastOnlinePostgres}

// Feast entity key serialization versions (sdk/python/feast/infra/key_encoding_utils.py).
const (
	DefaultKeySerializationVersion = 3
	MinKeySerializationVersion     = 2
	MaxKeySerializationVersion     = 3
)

// FeastOnlineStore is the Feast online store: Redis ("host:6379") or PostgreSQL
// ("postgres://user@host:5432/db", the password in feastOnlinePassword).
type FeastOnlineStore struct {
	Type    string `json:"type"`
	Address string `json:"address"`
	// KeySerializationVersion is Feast's entity_key_serialization_version (default 3, Feast's
	// default from v0.50.0; 2 for older repositories).
	KeySerializationVersion *int `json:"keySerializationVersion"`
}

// FeastOfflineStore is the Feast offline store database (PostgreSQL), where the batch sources and
// Feast's data-quality monitoring tables live; the password is in feastOfflinePassword.
type FeastOfflineStore struct {
	URL string `json:"url"`
}

// FeastSettings are the validated Feast settings.
type FeastSettings struct {
	Project string
	// Exactly one of RegistryPath, RegistrySQL and RegistryURL is set when Configured.
	RegistryPath string
	RegistrySQL  string
	RegistryURL  string
	// OnlineType is "", FeastOnlineRedis or FeastOnlinePostgres; OnlineAddress its address.
	OnlineType              string
	OnlineAddress           string
	KeySerializationVersion int
	// OfflineURL is the offline store's PostgreSQL URL ("" when unset).
	OfflineURL string
}

// Configured reports whether a Feast registry is configured.
func (f FeastSettings) Configured() bool {
	return f.RegistryPath != "" || f.RegistrySQL != "" || f.RegistryURL != ""
}

// raw mirrors jsonData as stored by Grafana.
type raw struct {
	PredictionLog  PredictionLog `json:"predictionLog"`
	Prometheus     Prometheus    `json:"prometheus"`
	Endpoints      []Endpoint    `json:"endpoints"`
	Demo           *bool         `json:"demo"`
	TimeoutSeconds *float64      `json:"timeoutSeconds"`
	MaxSamples     *int          `json:"maxSamples"`
	// MaxReferenceSamples caps the rows kept of a reference sample (DESIGN §3).
	MaxReferenceSamples *int `json:"maxReferenceSamples"`
	// MaxConcurrentQueries is the instance budget of queries computing at once.
	MaxConcurrentQueries *int `json:"maxConcurrentQueries"`
	// SQL configures the PostgreSQL source (DESIGN §3 `sql.*`).
	SQL   *SQL  `json:"sql"`
	Feast Feast `json:"feast"`
}

// Settings are the validated settings of one data source instance.
type Settings struct {
	PredictionLog PredictionLog
	Prometheus    Prometheus
	Endpoints     []Endpoint
	// Demo serves the built-in synthetic fleet.
	Demo       bool
	Timeout    time.Duration
	MaxSamples int
	// MaxReferenceSamples caps the rows kept of a reference sample; beyond it a deterministic
	// uniform sample is used, with a notice.
	MaxReferenceSamples int
	// MaxConcurrentQueries is how many queries the instance computes at once, all requests
	// together (default limits.DefaultConcurrentQueries).
	MaxConcurrentQueries int
	// SQL is the PostgreSQL source; nil when sql.url is not set.
	SQL *SQLSettings
	// Feast is the Feast feature store (Feast.Configured() false when none).
	Feast FeastSettings

	// Secrets (sent as bearer tokens). Never log or print these.
	PredictionLogToken string
	PrometheusToken    string
	EndpointToken      string
	// SQLPassword is the PostgreSQL password (never in sql.url).
	SQLPassword string
	// Feast secrets: the registry's (the REST registry server's bearer token, or the SQL
	// registry's PostgreSQL password), the online and offline stores' passwords.
	FeastRegistryToken   string
	FeastOnlinePassword  string
	FeastOfflinePassword string
}

// Secure JSON keys (DESIGN §3).
const (
	SecretPredictionLogToken = "predictionLogToken"
	SecretPrometheusToken    = "prometheusToken"
	SecretEndpointToken      = "endpointToken"
	SecretSQLPassword        = "sqlPassword"
	SecretFeastRegistryToken = "feastRegistryToken"
	SecretFeastOnlinePass    = "feastOnlinePassword"
	SecretFeastOfflinePass   = "feastOfflinePassword"
)

// Parse validates jsonData and reads the decrypted secrets. Errors name the setting to fix and never
// contain a secret. A jsonData key the plugin does not know is an error naming it (see keys.go).
// Settings that set nothing select the demo fleet, so a fresh install shows data with no other
// configuration; any other settings must configure a source or turn the demo fleet on.
func Parse(jsonData []byte, secure map[string]string) (*Settings, error) {
	var r raw
	if len(strings.TrimSpace(string(jsonData))) > 0 {
		if err := checkKeys(jsonData); err != nil {
			return nil, err
		}
		if err := json.Unmarshal(jsonData, &r); err != nil {
			return nil, fmt.Errorf("invalid data source settings (jsonData): %w", err)
		}
	}
	s := &Settings{
		PredictionLog:        r.PredictionLog,
		Prometheus:           r.Prometheus,
		Endpoints:            r.Endpoints,
		Timeout:              DefaultTimeout,
		MaxSamples:           DefaultMaxSamples,
		MaxReferenceSamples:  limits.DefaultMaxReferenceSamples,
		MaxConcurrentQueries: limits.DefaultConcurrentQueries,
		PredictionLogToken:   secure[SecretPredictionLogToken],
		PrometheusToken:      secure[SecretPrometheusToken],
		EndpointToken:        secure[SecretEndpointToken],
		SQLPassword:          secure[SecretSQLPassword],
		FeastRegistryToken:   secure[SecretFeastRegistryToken],
		FeastOnlinePassword:  secure[SecretFeastOnlinePass],
		FeastOfflinePassword: secure[SecretFeastOfflinePass],
	}
	s.PredictionLog.URL = strings.TrimRight(strings.TrimSpace(s.PredictionLog.URL), "/")
	s.Prometheus.URL = strings.TrimRight(strings.TrimSpace(s.Prometheus.URL), "/")

	if r.TimeoutSeconds != nil {
		t := *r.TimeoutSeconds
		if t <= 0 || time.Duration(t*float64(time.Second)) > MaxTimeout {
			return nil, fmt.Errorf("timeoutSeconds must be in (0, %d], got %v", int(MaxTimeout.Seconds()), t)
		}
		s.Timeout = time.Duration(t * float64(time.Second))
	}
	if r.MaxSamples != nil {
		if *r.MaxSamples <= 0 {
			return nil, fmt.Errorf("maxSamples must be a positive number, got %d", *r.MaxSamples)
		}
		s.MaxSamples = *r.MaxSamples
	}
	if r.MaxReferenceSamples != nil {
		n := *r.MaxReferenceSamples
		if n < limits.MinReferenceSamples || n > limits.MaxReferenceSamples {
			return nil, fmt.Errorf("maxReferenceSamples must be a whole number in [%d, %d], got %d", limits.MinReferenceSamples, limits.MaxReferenceSamples, n)
		}
		s.MaxReferenceSamples = n
	}
	if r.MaxConcurrentQueries != nil {
		if n := *r.MaxConcurrentQueries; n < 1 || n > limits.MaxConcurrentQueries {
			return nil, fmt.Errorf("maxConcurrentQueries must be a whole number in [1, %d], got %d", limits.MaxConcurrentQueries, n)
		}
		s.MaxConcurrentQueries = *r.MaxConcurrentQueries
	}
	if s.PredictionLog.URL != "" {
		if err := checkURL(s.PredictionLog.URL); err != nil {
			return nil, fmt.Errorf("predictionLog.url: %w", err)
		}
	}
	if s.Prometheus.URL != "" {
		if err := checkURL(s.Prometheus.URL); err != nil {
			return nil, fmt.Errorf("prometheus.url: %w", err)
		}
	}
	sq, err := parseSQL(r.SQL)
	if err != nil {
		return nil, err
	}
	s.SQL = sq
	if s.Prometheus.Preset == "" {
		s.Prometheus.Preset = PresetGeneric
	}
	if !validPreset(s.Prometheus.Preset) {
		return nil, fmt.Errorf("prometheus.preset %q is not one of %v", s.Prometheus.Preset, Presets)
	}
	seen := map[string]bool{}
	for i := range s.Endpoints {
		e := &s.Endpoints[i]
		e.Name = strings.TrimSpace(e.Name)
		e.URL = strings.TrimRight(strings.TrimSpace(e.URL), "/")
		if e.Protocol == "" {
			e.Protocol = ProtocolOIP
		}
		if e.Name == "" {
			return nil, fmt.Errorf("endpoints[%d]: name is required", i)
		}
		if seen[e.Name] {
			return nil, fmt.Errorf("endpoints[%d]: duplicate name %q", i, e.Name)
		}
		seen[e.Name] = true
		if err := checkURL(e.URL); err != nil {
			return nil, fmt.Errorf("endpoints[%d] (%s): url: %w", i, e.Name, err)
		}
		if !slices.Contains(Protocols, e.Protocol) {
			return nil, fmt.Errorf("endpoints[%d] (%s): protocol %q is not one of %s", i, e.Name, e.Protocol, strings.Join(Protocols, ", "))
		}
	}
	f, err := parseFeast(r.Feast)
	if err != nil {
		return nil, err
	}
	s.Feast = f
	if r.Demo != nil {
		s.Demo = *r.Demo
	} else {
		// The embedded default: settings that set nothing mean the demo fleet. Any other settings
		// must configure a source: synthetic data never answers for a source that was meant.
		s.Demo = blank(jsonData)
	}
	if !s.Demo && !s.HasSource() {
		return nil, fmt.Errorf("no source is configured: set predictionLog.url, prometheus.url, sql.url, endpoints or feast.registry, " +
			"or demo: true for the built-in synthetic fleet")
	}
	return s, nil
}

// HasSource reports whether a source other than the demo fleet is configured.
func (s *Settings) HasSource() bool {
	return s.PredictionLog.URL != "" || s.Prometheus.URL != "" || len(s.Endpoints) > 0 || s.SQL != nil || s.Feast.Configured()
}

func validPreset(p Preset) bool {
	for _, q := range Presets {
		if p == q {
			return true
		}
	}
	return false
}

func checkURL(raw string) error {
	if raw == "" {
		return fmt.Errorf("is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a valid URL")
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("must start with http:// or https://")
	}
	if u.Host == "" {
		return fmt.Errorf("has no host")
	}
	if u.User != nil {
		return fmt.Errorf("must not contain credentials; use the token or basic-auth settings")
	}
	return nil
}
