package settings

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

func TestParseDefaults(t *testing.T) {
	for _, raw := range []string{"", "{}", "  "} {
		s, err := Parse([]byte(raw), nil)
		require.NoError(t, err)
		require.True(t, s.Demo, "nothing configured selects the demo fleet")
		require.Equal(t, DefaultTimeout, s.Timeout)
		require.Equal(t, DefaultMaxSamples, s.MaxSamples)
		require.Equal(t, limits.DefaultConcurrentQueries, s.MaxConcurrentQueries)
		require.Equal(t, PresetGeneric, s.Prometheus.Preset)
	}
}

func TestParseFull(t *testing.T) {
	s, err := Parse([]byte(`{
		"predictionLog": {"url": " http://log:8090/api/v1/ "},
		"prometheus": {"url": "https://prom:9090/", "preset": "kserve", "modelLabel": "model", "versionLabel": "rev", "tenantId": "team-a"},
		"endpoints": [{"name": "fraud", "url": "http://kserve/"}, {"name": "triton", "url": "http://triton:8000", "protocol": "triton"}],
		"timeoutSeconds": 2.5, "maxSamples": 5000, "maxConcurrentQueries": 12}`),
		map[string]string{"predictionLogToken": "a", "prometheusToken": "b", "endpointToken": "c"})
	require.NoError(t, err)
	require.False(t, s.Demo, "configured sources turn the demo fleet off unless asked for")
	require.Equal(t, "http://log:8090/api/v1", s.PredictionLog.URL)
	require.Equal(t, "https://prom:9090", s.Prometheus.URL)
	require.Equal(t, PresetKServe, s.Prometheus.Preset)
	require.Equal(t, "team-a", s.Prometheus.TenantID)
	require.Equal(t, ProtocolOIP, s.Endpoints[0].Protocol, "oip is the default protocol")
	require.Equal(t, "http://kserve", s.Endpoints[0].URL)
	require.Equal(t, 2500*time.Millisecond, s.Timeout)
	require.Equal(t, 5000, s.MaxSamples)
	require.Equal(t, 12, s.MaxConcurrentQueries)
	require.Equal(t, "a", s.PredictionLogToken)
	require.Equal(t, "b", s.PrometheusToken)
	require.Equal(t, "c", s.EndpointToken)

	s, err = Parse([]byte(`{"demo": true, "predictionLog": {"url": "http://x"}}`), nil)
	require.NoError(t, err)
	require.True(t, s.Demo)
	s, err = Parse([]byte(`{"demo": false}`), nil)
	require.NoError(t, err)
	require.False(t, s.Demo)
}

func TestParseErrors(t *testing.T) {
	secret := "hunter2-secret"
	cases := map[string]string{
		`{`:                                     "invalid data source settings",
		`{"timeoutSeconds": 0}`:                 "timeoutSeconds",
		`{"timeoutSeconds": 100000}`:            "timeoutSeconds",
		`{"maxSamples": -1}`:                    "maxSamples",
		`{"maxConcurrentQueries": 0}`:           "maxConcurrentQueries",
		`{"maxConcurrentQueries": 100000}`:      "maxConcurrentQueries",
		`{"predictionLog": {"url": "ftp://x"}}`: "predictionLog.url",
		`{"predictionLog": {"url": "http://user:` + secret + `@host"}}`:                       "must not contain credentials",
		`{"prometheus": {"url": "http://"}}`:                                                  "prometheus.url",
		`{"prometheus": {"url": "http://p", "preset": "sagemaker"}}`:                          "prometheus.preset",
		`{"endpoints": [{"url": "http://a"}]}`:                                                "name is required",
		`{"endpoints": [{"name": "a", "url": "http://a"}, {"name": "a", "url": "http://b"}]}`: "duplicate name",
		`{"endpoints": [{"name": "a", "url": "a.example"}]}`:                                  "endpoints[0] (a): url",
		`{"endpoints": [{"name": "a", "url": "http://a", "protocol": "grpc"}]}`:               "protocol",
		`{"maxSamples": "many"}`:                                                              "invalid data source settings",
	}
	for raw, want := range cases {
		_, err := Parse([]byte(raw), map[string]string{"predictionLogToken": secret})
		require.Error(t, err, raw)
		require.Contains(t, err.Error(), want, raw)
		require.NotContains(t, err.Error(), secret, "errors never carry a secret")
	}
}
