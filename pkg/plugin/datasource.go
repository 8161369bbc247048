// Package plugin is the thin Grafana SDK adapter of ModelLens: the instance factory, QueryData
// through a QueryTypeMux built once, CheckHealth, CallResource through a resource mux built once,
// and Dispose.
package plugin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/httpclient"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"
	"github.com/grafana/grafana-plugin-sdk-go/backend/resource/httpadapter"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/pluginid"
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/resources"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/predlog"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/prometheus"
	sqlsource "github.com/modellens/mlmonitoring-datasource/pkg/source/sql"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"
)

// ID is the plugin id (plugin.json).
const ID = pluginid.ID

// ReferenceTTL is how long a prepared reference sample is reused.
const ReferenceTTL = 10 * time.Minute

// healthTimeout bounds each source's check in CheckHealth.
const healthTimeout = 10 * time.Second

// Compile-time checks that Datasource implements the handlers Grafana calls.
var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Datasource is one configured ModelLens data source.
type Datasource struct {
	settings  *settings.Settings
	client    *http.Client
	handler   *query.Handler
	mux       backend.QueryDataHandler
	resources backend.CallResourceHandler
	deps      query.Deps
	refs      *refstats.Cache
	redact    redactor
	// sql is the PostgreSQL source and its connection pool (closed on Dispose).
	sql *sqlsource.Source
	// feast is the Feast registry reader (nil when none is configured); Dispose closes it.
	feast *feast.Reader
	// feastOnline and feastOffline are the Feast stores (nil when not configured); Dispose closes them.
	feastOnline  online.Store
	feastOffline *offline.Store
}

// NewDatasource is the instance factory: it parses the settings (bad settings give an instance
// that answers every query, health check and resource call with a downstream error naming the
// setting), builds one HTTP client from the SDK's options, the configured sources, the
// reference cache, the query mux and the resource mux.
func NewDatasource(ctx context.Context, dis backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	secrets := make([]string, 0, len(dis.DecryptedSecureJSONData))
	for _, v := range dis.DecryptedSecureJSONData {
		secrets = append(secrets, v)
	}
	s, err := settings.Parse(dis.JSONData, dis.DecryptedSecureJSONData)
	if err != nil {
		r := redactor{upstream.NewRedactor(secrets...)}
		return invalidSettings{err: backend.DownstreamError(r.err(err))}, nil
	}
	opts, err := dis.HTTPClientOptions(ctx)
	if err != nil {
		return nil, backend.DownstreamError(fmt.Errorf("http client options: %w", err))
	}
	if opts.Timeouts == nil {
		t := httpclient.DefaultTimeoutOptions
		opts.Timeouts = &t
	}
	opts.Timeouts.Timeout = s.Timeout
	// The base client of every connector (each wraps it with upstream.NewClient: token, body caps,
	// same-origin redirects only); it knows every secret it may send, for the redactors.
	client, err := upstream.NewBase(opts, secrets...)
	if err != nil {
		return nil, backend.PluginError(fmt.Errorf("http client: %w", err))
	}
	var tlsCfg *tls.Config
	if t := opts.TLS; t != nil && (t.CACertificate != "" || t.ClientCertificate != "" || t.InsecureSkipVerify) {
		if tlsCfg, err = httpclient.GetTLSConfig(opts); err != nil {
			return invalidSettings{err: backend.DownstreamError(fmt.Errorf("TLS settings: %w", err))}, nil
		}
	}
	d, err := newDatasourceTLS(s, client, tlsCfg)
	if err != nil {
		return nil, err
	}
	d.redact = redactor{upstream.RedactorOf(client)}
	return d, nil
}

func newDatasource(s *settings.Settings, client *http.Client) (*Datasource, error) {
	return newDatasourceTLS(s, client, nil)
}

// newDatasourceTLS builds the instance; tlsCfg, when set, is the SDK's TLS settings for the
// PostgreSQL connections.
func newDatasourceTLS(s *settings.Settings, client *http.Client, tlsCfg *tls.Config) (*Datasource, error) {
	d := &Datasource{settings: s, client: client, refs: refstats.New(ReferenceTTL)}
	deps := query.Deps{MaxSamples: s.MaxSamples, MaxReferenceSamples: s.MaxReferenceSamples, Timeout: s.Timeout, MaxConcurrentQueries: s.MaxConcurrentQueries, Logger: log.DefaultLogger, References: d.refs}
	if s.PredictionLog.URL != "" {
		pl, err := predlog.New(client, predlog.Options{BaseURL: s.PredictionLog.URL, Token: s.PredictionLogToken, MaxReferenceSamples: s.MaxReferenceSamples})
		if err != nil {
			return nil, backend.DownstreamError(err)
		}
		deps.PredictionLog = pl
	}
	if s.SQL != nil {
		src, err := sqlsource.New(sqlsource.Options{Settings: s.SQL, Password: s.SQLPassword, Timeout: s.Timeout,
			MaxReferenceSamples: s.MaxReferenceSamples, TLS: tlsCfg})
		if err != nil {
			return nil, backend.DownstreamError(err)
		}
		d.sql = src
		deps.SQL = src
	}
	if s.Demo {
		deps.Demo = demo.NewFleet(demo.DefaultSeed)
	}
	if s.Prometheus.URL != "" {
		pm, err := prometheus.New(client, s.Prometheus, s.PrometheusToken)
		if err != nil {
			return nil, backend.DownstreamError(err)
		}
		deps.Metrics = pm
	}
	if s.Feast.Configured() {
		fr, err := feast.New(feast.Options{Settings: s.Feast, RegistryToken: s.FeastRegistryToken, HTTP: client, Timeout: s.Timeout})
		if err != nil {
			return nil, backend.DownstreamError(err)
		}
		d.feast = fr
		deps.Feast = fr
		on, off, err := feastStores(s)
		if err != nil {
			_ = fr.Close()
			return nil, backend.DownstreamError(err)
		}
		if on != nil {
			d.feastOnline = on
			deps.FeastLookups = on
			deps.FeastOnline = online.Freshness{Store: on, Registry: fr}
		}
		if off != nil {
			d.feastOffline = off
			deps.FeastOffline = off
		}
	}
	eps, err := endpoints(s, d)
	if err != nil {
		return nil, backend.DownstreamError(err)
	}
	deps.Endpoints = eps
	d.deps = deps
	d.handler = query.New(deps)
	d.mux = d.handler.Mux()
	d.resources = httpadapter.New(resources.New(d.handler))
	return d, nil
}

// QueryData answers every query of the request; failures are per query. No secret of the settings
// reaches an error or a notice.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp, err := d.mux.QueryData(ctx, req)
	if resp != nil {
		for id, r := range resp.Responses {
			resp.Responses[id] = d.redact.response(r)
		}
	}
	return resp, d.redact.err(err)
}

// CallResource serves the editor's resources (pkg/resources), with secrets redacted from bodies.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	return d.redact.err(d.resources.CallResource(ctx, req, d.redact.sender(sender)))
}

// CheckHealth checks every configured source and names the ones that fail. Messages never carry
// secrets.
func (d *Datasource) CheckHealth(ctx context.Context, req *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	return d.redact.health(d.checkHealth(ctx, req))
}

func (d *Datasource) checkHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	type check struct {
		name string
		fn   func(context.Context) (string, error)
	}
	var checks []check
	if d.deps.PredictionLog != nil {
		checks = append(checks, check{"prediction log", func(ctx context.Context) (string, error) {
			ms, err := d.deps.PredictionLog.Models(ctx)
			return fmt.Sprintf("%d models", len(ms)), err
		}})
	}
	if d.sql != nil {
		checks = append(checks, check{"PostgreSQL", d.sql.Check})
	}
	if d.deps.Metrics != nil {
		checks = append(checks, check{"Prometheus", func(ctx context.Context) (string, error) {
			ms, err := d.deps.Metrics.Models(ctx)
			return fmt.Sprintf("%d models", len(ms)), err
		}})
	}
	for _, ep := range d.deps.Endpoints {
		checks = append(checks, check{"endpoint " + ep.Name, func(ctx context.Context) (string, error) {
			ok, err := ep.Client.ServerReady(ctx)
			if err == nil && !ok {
				err = errors.New("server not ready")
			}
			return "ready", err
		}})
	}
	if d.deps.Feast != nil {
		checks = append(checks, check{"Feast registry", func(ctx context.Context) (string, error) {
			reg, err := d.deps.Feast.Registry(ctx)
			if err != nil {
				return "", err
			}
			return fmt.Sprintf("project %s, %d feature views", d.deps.Feast.Project(), len(reg.FeatureViews)), nil
		}})
	}
	if d.deps.FeastLookups != nil {
		checks = append(checks, check{"Feast online store", func(ctx context.Context) (string, error) {
			return "reachable", d.deps.FeastLookups.Ping(ctx)
		}})
	}
	if d.feastOffline != nil {
		checks = append(checks, check{"Feast offline store", func(ctx context.Context) (string, error) {
			return "reachable", d.feastOffline.Ping(ctx)
		}})
	}
	if d.deps.Demo != nil {
		checks = append(checks, check{"demo fleet", func(ctx context.Context) (string, error) {
			ms, err := d.deps.Demo.Models(ctx)
			return fmt.Sprintf("%d models", len(ms)), err
		}})
	}
	if len(checks) == 0 {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError,
			Message: "No source configured: set the Prediction Log URL, the PostgreSQL URL, the Prometheus URL, a model endpoint, a Feast registry, or turn on the demo fleet."}, nil
	}
	var ok, bad []string
	for _, c := range checks {
		cctx, cancel := context.WithTimeout(ctx, healthTimeout)
		what, err := c.fn(cctx)
		cancel()
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s", c.name, strings.TrimPrefix(healthError(err), c.name+": ")))
			continue
		}
		ok = append(ok, fmt.Sprintf("%s (%s)", c.name, what))
	}
	if len(bad) > 0 {
		msg := "Failed: " + strings.Join(bad, "; ")
		if len(ok) > 0 {
			msg += ". Working: " + strings.Join(ok, ", ")
		}
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: msg}, nil
	}
	return &backend.CheckHealthResult{Status: backend.HealthStatusOk, Message: "OK: " + strings.Join(ok, ", ")}, nil
}

// healthError is the text of a source error for the health message.
func healthError(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return "timed out"
	}
	return err.Error()
}

// Dispose drops the reference cache and closes idle connections; Grafana calls it when the
// settings change or the instance is evicted.
func (d *Datasource) Dispose() {
	if d.refs != nil {
		d.refs.Dispose()
	}
	if d.client != nil {
		d.client.CloseIdleConnections()
	}
	if d.sql != nil {
		d.sql.Close()
	}
	if d.feast != nil {
		_ = d.feast.Close()
	}
	if d.feastOnline != nil {
		_ = d.feastOnline.Close()
	}
	if d.feastOffline != nil {
		_ = d.feastOffline.Close()
	}
}
