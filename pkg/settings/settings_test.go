package settings

import (
	"fmt"
	"strings"
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
		"timeoutSeconds": 2.5, "maxSamples": 5000, "maxReferenceSamples": 20000, "maxConcurrentQueries": 12}`),
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
	require.Equal(t, 20000, s.MaxReferenceSamples)
	require.Equal(t, 12, s.MaxConcurrentQueries)
	require.Equal(t, "a", s.PredictionLogToken)
	require.Equal(t, "b", s.PrometheusToken)
	require.Equal(t, "c", s.EndpointToken)

	s, err = Parse([]byte(`{"demo": true, "predictionLog": {"url": "http://x"}}`), nil)
	require.NoError(t, err)
	require.True(t, s.Demo)
	s, err = Parse([]byte(`{"demo": false, "endpoints": [{"name": "a", "url": "http://a"}]}`), nil)
	require.NoError(t, err)
	require.False(t, s.Demo)
}

// TestDemoOnlyWhenAskedOrBlank: the demo fleet serves when demo is true or the settings set
// nothing; any other settings without a source are an error, never the synthetic fleet.
func TestDemoOnlyWhenAskedOrBlank(t *testing.T) {
	for _, raw := range []string{
		`null`,
		`{"oauthPassThru": false, "tlsAuth": false, "tlsAuthWithCACert": false, "serverName": ""}`, // Grafana's auth section, untouched
		`{"predictionLog": {}, "prometheus": {"url": ""}, "endpoints": []}`,                        // fields typed and cleared
	} {
		s, err := Parse([]byte(raw), nil)
		require.NoError(t, err, raw)
		require.True(t, s.Demo, raw)
	}
	for _, raw := range []string{
		`{"demo": false}`,
		`{"timeoutSeconds": 10}`,
		`{"prometheus": {"preset": "kserve"}}`,
		`{"predictionLog": {"url": ""}, "maxSamples": 5}`,
		`{"tlsSkipVerify": true}`,
	} {
		_, err := Parse([]byte(raw), nil)
		require.ErrorContains(t, err, "no source is configured", raw)
	}
}

// TestUnknownKeys: every key the plugin does not know is named, at any depth, with the nearest
// known key when it is a near miss.
func TestUnknownKeys(t *testing.T) {
	cases := map[string][]string{
		`{"prometeus": {"url": "http://p"}}`: {`"prometeus" (did you mean "prometheus"?)`},
		`{"predictionLog": {"url": "http://l"}, "maxSample": 3, "zzz": 1}`: {
			`"maxSample" (did you mean "maxSamples"?)`, `"zzz"`},
		`{"prometheus": {"url": "http://p", "modelLable": "m"}}`:             {`"prometheus.modelLable" (did you mean "prometheus.modelLabel"?)`},
		`{"endpoints": [{"name": "a", "url": "http://a"}, {"nmae": "b"}]}`:   {`"endpoints[1].nmae" (did you mean "endpoints[1].name"?)`},
		`{"Prometheus": {"url": "http://p"}}`:                                {`"Prometheus" (did you mean "prometheus"?)`},
		`{"demo": true, "tlsSkipVerfy": true}`:                               {`"tlsSkipVerfy" (did you mean "tlsSkipVerify"?)`},
		`{"demo": true, "httpHeaderName": "X"}`:                              {`"httpHeaderName"`},
		`{"demo": true, "httpHeaderValue1": "secret-in-the-wrong-place"}`:    {`"httpHeaderValue1" (a secret: it belongs in secureJsonData)`},
		`{"demo": true, "prometheusToken": "t"}`:                             {`"prometheusToken" (a secret: it belongs in secureJsonData)`},
		`{"demo": true, "predictionLog": {"url": "http://l", "token": "x"}}`: {`"predictionLog.token"`},
	}
	for raw, want := range cases {
		_, err := Parse([]byte(raw), nil)
		require.Error(t, err, raw)
		require.Contains(t, err.Error(), "unknown jsonData setting", raw)
		for _, w := range want {
			require.Contains(t, err.Error(), w, raw)
		}
	}
	_, err := Parse([]byte(`{"demo": true, "httpHeaderValue1": "secret-in-the-wrong-place"}`), nil)
	require.NotContains(t, err.Error(), "secret-in-the-wrong-place", "values are never echoed")

	var many strings.Builder
	many.WriteString(`{"demo": true`)
	for i := 0; i < 50; i++ {
		fmt.Fprintf(&many, `, "k%02d": 1`, i)
	}
	many.WriteString("}")
	_, err = Parse([]byte(many.String()), nil)
	require.ErrorContains(t, err, "and 40 more")
}

// TestGrafanaHTTPKeys: the keys of the SDK's HTTP client options and Grafana's auth section are
// known; a wrong type is an error (the SDK would panic on it), and a feature the plugin does not
// implement is an error when turned on.
func TestGrafanaHTTPKeys(t *testing.T) {
	s, err := Parse([]byte(`{"predictionLog": {"url": "http://l"}, "tlsAuth": true, "tlsAuthWithCACert": true,
		"tlsSkipVerify": false, "serverName": "log.internal", "httpHeaderName1": "X-Team", "httpHeaderName12": "X-Other",
		"oauthPassThru": false, "keepCookies": [], "timeout": 30, "dialTimeout": 5, "basicAuth": true, "basicAuthUser": "u",
		"enableSecureSocksProxy": false, "httpMaxIdleConns": 10}`), nil)
	require.NoError(t, err)
	require.False(t, s.Demo)

	for raw, want := range map[string]string{
		`{"demo": true, "serverName": 5}`:             "serverName",
		`{"demo": true, "access": 5}`:                 "access",
		`{"demo": true, "url": ["http://x"]}`:         "url",
		`{"demo": true, "basicAuthUser": true}`:       "basicAuthUser",
		`{"demo": true, "httpHeaderName1": 7}`:        "httpHeaderName1",
		`{"demo": true, "oauthPassThru": true}`:       "oauthPassThru",
		`{"demo": true, "keepCookies": ["session"]}`:  "keepCookies",
		`{"demo": true, "sigV4Auth": true}`:           "sigV4Auth",
		`{"demo": true, "prometheus": {"url": 5}}`:    "prometheus.url",
		`{"demo": true, "endpoints": {"name": "a"}}`:  "endpoints",
		`{"demo": true, "timeoutSeconds": "forever"}`: "timeoutSeconds",
	} {
		_, err := Parse([]byte(raw), nil)
		require.ErrorContains(t, err, want, raw)
	}
	require.Contains(t, KnownKeys(), "maxSamples")
	require.Contains(t, KnownKeys(), "tlsSkipVerify")
}

func TestParseErrors(t *testing.T) {
	secret := "hunter2-secret"
	cases := map[string]string{
		`{`:                                     "invalid data source settings",
		`{"timeoutSeconds": 0}`:                 "timeoutSeconds",
		`{"timeoutSeconds": 100000}`:            "timeoutSeconds",
		`{"maxSamples": -1}`:                    "maxSamples",
		`{"maxReferenceSamples": 1}`:            "maxReferenceSamples must be a whole number in [2, 50000000]",
		`{"maxReferenceSamples": 50000001}`:     "maxReferenceSamples",
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
