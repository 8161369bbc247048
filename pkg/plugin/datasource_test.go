package plugin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
)

const secret = "tok-9f8e7d6c5b4a"

func newTestDatasource(t *testing.T, jsonData string, secure map[string]string) *Datasource {
	t.Helper()
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		UID: "ml", JSONData: json.RawMessage(jsonData), DecryptedSecureJSONData: secure,
	})
	require.NoError(t, err)
	d := inst.(*Datasource)
	t.Cleanup(d.Dispose)
	return d
}

// TestBadSettings: bad settings give every query of a request, Save & test and the resources the
// settings error, as a downstream error that names the setting and carries no secret.
func TestBadSettings(t *testing.T) {
	for js, want := range map[string]string{
		`{"timeoutSeconds":-1}`:               "timeoutSeconds",
		`{"predictionLog":{"url":"ftp://x"}}`: "predictionLog.url",
		`{`:                                   "invalid data source settings",
		`{"prometheus":{"url":"http://p","preset":"nope"}}`:     "prometheus.preset",
		`{"prometeus":{"url":"http://p"}}`:                      `"prometeus" (did you mean "prometheus"?)`,
		`{"demo":false}`:                                        "no source is configured",
		`{"prometheus":{"preset":"kserve"}}`:                    "no source is configured",
		`{"predictionLog":{"url":"http://u:` + secret + `@h"}}`: "must not contain credentials",
	} {
		inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{JSONData: json.RawMessage(js),
			DecryptedSecureJSONData: map[string]string{"predictionLogToken": secret}})
		require.NoError(t, err, js)

		res, err := inst.(backend.CheckHealthHandler).CheckHealth(context.Background(), &backend.CheckHealthRequest{})
		require.NoError(t, err, js)
		require.Equal(t, backend.HealthStatusError, res.Status, js)
		require.Contains(t, res.Message, want, js)
		require.NotContains(t, res.Message, secret, js)

		resp, err := inst.(backend.QueryDataHandler).QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
			{RefID: "A", JSON: []byte(`{"queryType":"traffic"}`)}, {RefID: "B", JSON: []byte(`{"queryType":"latency"}`)}}})
		require.NoError(t, err, js)
		for _, id := range []string{"A", "B"} {
			r := resp.Responses[id]
			require.ErrorContains(t, r.Error, want, js)
			require.NotContains(t, r.Error.Error(), secret, js)
			require.Equal(t, backend.ErrorSourceDownstream, r.ErrorSource, js)
			require.Empty(t, r.Frames, js)
		}

		var got *backend.CallResourceResponse
		err = inst.(backend.CallResourceHandler).CallResource(context.Background(), &backend.CallResourceRequest{Method: http.MethodGet, Path: "models"},
			backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
		require.NoError(t, err, js)
		require.Equal(t, http.StatusBadRequest, got.Status, js)
		require.Contains(t, string(got.Body), "invalid settings", js)
	}
}

// TestAlertQueryDemo runs queries as the alerting engine sends them: no user, the FromAlert
// header, the query type only in the JSON.
func TestAlertQueryDemo(t *testing.T) {
	d := newTestDatasource(t, `{}`, nil) // nothing configured: the demo fleet
	to := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	req := &backend.QueryDataRequest{
		PluginContext: backend.PluginContext{User: nil},
		Headers:       map[string]string{backend.FromAlertHeaderName: "true"},
		Queries: []backend.DataQuery{
			{RefID: "A", JSON: []byte(`{"queryType":"drift","model":"fraud-detector","features":["amount"],"methods":["psi","status"],"output":"latest"}`),
				Interval: time.Minute, MaxDataPoints: 100, TimeRange: backend.TimeRange{From: to.Add(-time.Hour), To: to}},
			{RefID: "B", QueryType: "latency", JSON: []byte(`{"model":"churn-classifier","window":"5m"}`),
				Interval: time.Minute, MaxDataPoints: 100, TimeRange: backend.TimeRange{From: to.Add(-time.Hour), To: to}},
			{RefID: "C", JSON: []byte(`{"queryType":"traffic","model":"missing"}`),
				Interval: time.Minute, TimeRange: backend.TimeRange{From: to.Add(-time.Hour), To: to}},
		},
	}
	resp, err := d.QueryData(context.Background(), req)
	require.NoError(t, err)
	for _, id := range []string{"A", "B"} {
		r := resp.Responses[id]
		require.NoError(t, r.Error, id)
		require.NotEmpty(t, r.Frames, id)
		require.NoError(t, frames.CheckAlertReady(r.Frames), id)
	}
	require.Len(t, resp.Responses["A"].Frames, 2)
	require.ErrorContains(t, resp.Responses["C"].Error, `model "missing" not found`)
	require.Equal(t, backend.ErrorSourceDownstream, resp.Responses["C"].ErrorSource)
}

func TestCheckHealth(t *testing.T) {
	d := newTestDatasource(t, `{"demo":true}`, nil)
	res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, res.Status, res.Message)
	require.Contains(t, res.Message, "demo fleet (3 models)")

	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		http.Error(w, "database down", http.StatusInternalServerError)
	}))
	defer srv.Close()
	d = newTestDatasource(t, `{"demo":true,"predictionLog":{"url":"`+srv.URL+`"}}`, map[string]string{"predictionLogToken": secret})
	res, err = d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, res.Status)
	require.True(t, strings.HasPrefix(res.Message, "Failed: prediction log: GET /models: 500 Internal Server Error: database down"), res.Message)
	require.Contains(t, res.Message, "Working: demo fleet")
	require.NotContains(t, res.Message, secret)
	require.Equal(t, "Bearer "+secret, gotAuth)

	d = newTestDatasource(t, `{"endpoints":[{"name":"scrape","url":"http://scrape","protocol":"metrics"}]}`, nil)
	res, err = d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, res.Status)
	require.Contains(t, res.Message, "No source configured")
}

func TestCallResource(t *testing.T) {
	d := newTestDatasource(t, `{}`, nil)
	var got *backend.CallResourceResponse
	err := d.CallResource(context.Background(), &backend.CallResourceRequest{Method: http.MethodGet, Path: "models", URL: "models?source=demo"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.Status)
	var models []struct {
		Name     string   `json:"name"`
		Versions []string `json:"versions"`
	}
	require.NoError(t, json.Unmarshal(got.Body, &models))
	require.Len(t, models, 3)
	err = d.CallResource(context.Background(), &backend.CallResourceRequest{Method: http.MethodGet, Path: "models/nope/features", URL: "models/nope/features"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, got.Status)
	require.Contains(t, string(got.Body), `"error"`)
}

// TestEndpointHealth serves the Open Inference Protocol health routes of one model and checks the
// health query, the endpoints table's health column and CheckHealth through real clients.
func TestEndpointHealth(t *testing.T) {
	var gotAuth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = r.Header.Get("Authorization")
		switch r.URL.Path {
		case "/v2/health/ready", "/v2/models/fraud-detector/ready":
			w.WriteHeader(http.StatusOK)
		case "/v2/repository/index":
			_, _ = w.Write([]byte(`[{"name":"fraud-detector","version":"1","state":"READY"},{"name":"churn-classifier","state":"UNAVAILABLE"}]`))
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer srv.Close()
	d := newTestDatasource(t, `{"demo":true,"endpoints":[{"name":"kserve","url":"`+srv.URL+`"},{"name":"scrape","url":"`+srv.URL+`","protocol":"metrics"}]}`,
		map[string]string{"endpointToken": secret})
	require.Len(t, d.deps.Endpoints, 1, "metrics endpoints have no inference client")
	to := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		{RefID: "A", JSON: []byte(`{"queryType":"health"}`), TimeRange: backend.TimeRange{From: to.Add(-time.Hour), To: to}},
	}})
	require.NoError(t, err)
	r := resp.Responses["A"]
	require.NoError(t, r.Error)
	require.NoError(t, frames.CheckAlertReady(r.Frames))
	got := map[string]float64{}
	for _, f := range r.Frames {
		v, err := frames.Values(f)
		require.NoError(t, err)
		got[f.Fields[0].Labels.String()] = v[0]
	}
	require.Equal(t, map[string]float64{"endpoint=kserve, model=churn-classifier": 0, "endpoint=kserve, model=fraud-detector": 1}, got)
	require.Equal(t, "Bearer "+secret, gotAuth)

	res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusOk, res.Status, res.Message)
	require.Contains(t, res.Message, "endpoint kserve (ready)")
}

// TestNoSecretInAnswers serves a Prediction Log that echoes the credentials it received (basic
// auth, a custom header and the bearer token) in its error bodies, and checks that no secret
// reaches a query error, a notice, CheckHealth or a resource answer, while the other query still
// answers and the upstream failure is downstream.
func TestNoSecretInAnswers(t *testing.T) {
	const password, header = "pw-1a2b3c4d5e", "hdr-6f7a8b9c0d"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, pw, _ := r.BasicAuth()
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"rejected: password ` + pw + `, X-Api-Key ` + r.Header.Get("X-Api-Key") + `, token ` + r.Header.Get("Authorization") + `"}`))
	}))
	defer srv.Close()
	inst, err := NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		UID: "ml", BasicAuthEnabled: true, BasicAuthUser: "ml",
		JSONData:                json.RawMessage(`{"demo":true,"predictionLog":{"url":"` + srv.URL + `"},"httpHeaderName1":"X-Api-Key"}`),
		DecryptedSecureJSONData: map[string]string{"predictionLogToken": secret, "basicAuthPassword": password, "httpHeaderValue1": header},
	})
	require.NoError(t, err)
	d := inst.(*Datasource)
	t.Cleanup(d.Dispose)
	leaks := func(s string) {
		t.Helper()
		for _, x := range []string{secret, password, header} {
			require.NotContains(t, s, x)
		}
	}
	to := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	tr := backend.TimeRange{From: to.Add(-time.Hour), To: to}
	resp, err := d.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		{RefID: "A", JSON: []byte(`{"queryType":"latency","source":"predictionLog","model":"m"}`), Interval: time.Minute, TimeRange: tr},
		{RefID: "B", JSON: []byte(`{"queryType":"traffic","source":"demo","model":"fraud-detector","output":"latest"}`), Interval: time.Minute, TimeRange: tr},
	}})
	require.NoError(t, err)
	a := resp.Responses["A"]
	require.Error(t, a.Error)
	require.Equal(t, backend.ErrorSourceDownstream, a.ErrorSource)
	require.Contains(t, a.Error.Error(), "401")
	leaks(a.Error.Error())
	require.NoError(t, resp.Responses["B"].Error)

	res, err := d.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	require.NoError(t, err)
	require.Equal(t, backend.HealthStatusError, res.Status)
	leaks(res.Message)

	var got *backend.CallResourceResponse
	require.NoError(t, d.CallResource(context.Background(), &backend.CallResourceRequest{Method: http.MethodGet, Path: "models", URL: "models?source=predictionLog"},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil })))
	require.Equal(t, http.StatusBadGateway, got.Status)
	leaks(string(got.Body))
}
