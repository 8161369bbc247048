package query

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// modelsTTL is how long a source's model list is reused before it is asked again.
const modelsTTL = 30 * time.Second

// Resolved is the source that answers a query.
type Resolved struct {
	// Name is one of SourcePredictionLog, SourceDemo, SourcePrometheus, SourceEndpoint.
	Name string
	// Log is set for the prediction log and the demo fleet.
	Log source.PredictionLog
	// Metrics is set for Prometheus.
	Metrics source.Metrics
}

type modelList struct {
	at     time.Time
	models []source.Model
}

// catalog resolves sources and caches their model lists.
type catalog struct {
	deps Deps
	mu   sync.Mutex
	list map[string]modelList
	now  func() time.Time
}

func newCatalog(deps Deps) *catalog {
	return &catalog{deps: deps, list: map[string]modelList{}, now: time.Now}
}

// configured reports whether a named source is configured.
func (c *catalog) configured(name string) bool {
	switch name {
	case SourcePredictionLog:
		return c.deps.PredictionLog != nil
	case SourceDemo:
		return c.deps.Demo != nil
	case SourceSQL:
		return c.deps.SQL != nil
	case SourcePrometheus:
		return c.deps.Metrics != nil
	case SourceEndpoint:
		return len(c.deps.Endpoints) > 0
	}
	return false
}

func (c *catalog) byName(name string) Resolved {
	switch name {
	case SourcePredictionLog:
		return Resolved{Name: name, Log: c.deps.PredictionLog}
	case SourceDemo:
		return Resolved{Name: name, Log: c.deps.Demo}
	case SourceSQL:
		return Resolved{Name: name, Log: c.deps.SQL}
	case SourcePrometheus:
		return Resolved{Name: name, Metrics: c.deps.Metrics}
	}
	return Resolved{Name: name}
}

// Models returns the model list of a resolved source (cached for modelsTTL).
func (c *catalog) Models(ctx context.Context, r Resolved) ([]source.Model, error) {
	c.mu.Lock()
	if l, ok := c.list[r.Name]; ok && c.now().Sub(l.at) < modelsTTL {
		c.mu.Unlock()
		return l.models, nil
	}
	c.mu.Unlock()
	var models []source.Model
	var err error
	switch {
	case r.Log != nil:
		models, err = r.Log.Models(ctx)
	case r.Metrics != nil:
		models, err = r.Metrics.Models(ctx)
	default:
		return nil, userError("source %q does not list models", r.Name)
	}
	if err != nil {
		return nil, sourceError(r.Name, err)
	}
	slices.SortFunc(models, func(a, b source.Model) int { return strings.Compare(a.Name, b.Name) })
	c.mu.Lock()
	c.list[r.Name] = modelList{at: c.now(), models: models}
	c.mu.Unlock()
	return models, nil
}

// Resolve picks the source of a query (DESIGN §4 `source`). An explicit source must be configured.
// `auto` (or empty) picks the Prediction Log when it is configured and knows the model (any model
// when model is empty or "*"), else PostgreSQL when it is configured and holds the model (any
// model when it is the first record source), else the demo fleet when it is on, else Prometheus
// when configured.
// Picking the demo fleet marks the query's frames as synthetic.
func (c *catalog) Resolve(ctx context.Context, name, model string) (Resolved, error) {
	r, err := c.resolve(ctx, name, model)
	return usedDemo(ctx, r), err
}

// recordsSource resolves a query's source (see Resolve) for a query type that needs prediction
// records: a source without them is the error noRecords formats, with args and then the source's
// name.
func (h *Handler) recordsSource(ctx context.Context, name, model, noRecords string, args ...any) (Resolved, error) {
	src, err := h.cat.Resolve(ctx, name, model)
	if err != nil {
		return src, err
	}
	if src.Log == nil {
		return src, userError(noRecords, append(args, src.Name)...)
	}
	return src, nil
}

func (c *catalog) resolve(ctx context.Context, name, model string) (Resolved, error) {
	if name != "" && name != SourceAuto {
		if !c.configured(name) {
			return Resolved{}, userError("source %q is not configured on this data source (configured: %s)", name, c.configuredNames())
		}
		return c.byName(name), nil
	}
	var firstErr error
	logDown := false
	// The Prediction Log first, then PostgreSQL, for the models each holds (every model when it is
	// the first record source).
	for _, rs := range []struct {
		on   bool
		name string
	}{{c.deps.PredictionLog != nil, SourcePredictionLog}, {c.deps.SQL != nil, SourceSQL}} {
		if !rs.on {
			continue
		}
		r := c.byName(rs.name)
		if allModels(model) {
			return r, nil
		}
		models, err := c.Models(ctx, r)
		switch {
		case err != nil:
			firstErr, logDown = err, true
		case findModel(models, model) != nil:
			return r, nil
		case firstErr == nil:
			firstErr = unknownModel(model, models)
		}
	}
	// Synthetic data never stands in for a Prediction Log (or a database) that failed to answer:
	// only a model the configured sources do not know may come from the demo fleet.
	if c.deps.Demo != nil && !logDown {
		r := c.byName(SourceDemo)
		if allModels(model) || firstErr == nil {
			return r, nil
		}
		models, err := c.Models(ctx, r)
		if err == nil && findModel(models, model) != nil {
			return r, nil
		}
	}
	if c.deps.Metrics != nil {
		return c.byName(SourcePrometheus), nil
	}
	if firstErr != nil {
		return Resolved{}, firstErr
	}
	if c.deps.Demo != nil {
		return c.byName(SourceDemo), nil
	}
	return Resolved{}, userError("no source is configured: set predictionLog.url, sql.url, prometheus.url or demo in the data source settings")
}

func (c *catalog) configuredNames() string {
	var names []string
	for _, n := range []string{SourcePredictionLog, SourceSQL, SourcePrometheus, SourceEndpoint, SourceDemo} {
		if c.configured(n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// ModelsOf returns the models of the source picked for the given source name (auto resolution as
// for a query over every model), sorted by name.
func (c *catalog) ModelsOf(ctx context.Context, name string) ([]source.Model, string, error) {
	r, err := c.Resolve(ctx, name, "")
	if err != nil {
		return nil, "", err
	}
	if r.Log == nil && r.Metrics == nil {
		return nil, "", userError("source %q does not list models; use predictionLog, sql, prometheus or demo", r.Name)
	}
	models, err := c.Models(ctx, r)
	return models, r.Name, err
}

// models returns the models a query covers: the named one, or every model when model is empty or "*".
func (c *catalog) models(ctx context.Context, r Resolved, model string) ([]source.Model, error) {
	models, err := c.Models(ctx, r)
	if err != nil {
		return nil, err
	}
	if allModels(model) {
		return models, nil
	}
	m := findModel(models, model)
	if m == nil {
		return nil, unknownModel(model, models)
	}
	return []source.Model{*m}, nil
}

func allModels(model string) bool { return model == "" || model == "*" }

func findModel(models []source.Model, name string) *source.Model {
	for i := range models {
		if models[i].Name == name {
			return &models[i]
		}
	}
	return nil
}

func unknownModel(model string, models []source.Model) error {
	const shown = 20
	names := make([]string, 0, min(len(models), shown))
	for _, m := range models[:min(len(models), shown)] {
		names = append(names, m.Name)
	}
	known := strings.Join(names, ", ")
	if len(models) > shown {
		known += fmt.Sprintf(", … %d more", len(models)-shown)
	}
	if known == "" {
		known = "none"
	}
	return backend.DownstreamError(&BadQueryError{fmt.Errorf("model %q not found (known: %s): %w", model, known, source.ErrUnknownModel)})
}

// sourceError maps a source's error to a per-query error: unknown model and missing reference are
// the user's to fix, errors that carry a source keep it (connectors mark upstream failures as
// downstream), context expiry is the upstream's, and anything else is a plugin error.
func sourceError(name string, err error) error {
	if err == nil {
		return nil
	}
	var ws backend.ErrorWithSource
	switch {
	case errors.Is(err, source.ErrUnknownModel), errors.Is(err, source.ErrNoReference):
		return backend.DownstreamError(&BadQueryError{err})
	case errors.As(err, &ws):
		return err
	case errors.Is(err, context.DeadlineExceeded):
		return backend.DownstreamError(fmt.Errorf("%s: timed out: %w", name, err))
	case errors.Is(err, context.Canceled):
		return backend.DownstreamError(err)
	}
	return backend.PluginError(fmt.Errorf("%s: %w", name, err))
}

// Models lists the models of a source for the editor and template variables: name is a query
// `source` value (empty for auto). The list is sorted by name.
func (h *Handler) Models(ctx context.Context, name string) ([]source.Model, error) {
	if name != "" && !oneOf(name, Sources) {
		return nil, userError("unknown source %q (one of %s)", name, quoteAll(Sources))
	}
	models, _, err := h.cat.ModelsOf(ctx, name)
	return models, err
}

// Model returns one model of a source (resolved as a query for that model would be); an unknown
// model gives an error wrapping source.ErrUnknownModel.
func (h *Handler) Model(ctx context.Context, name, model string) (*source.Model, error) {
	if name != "" && !oneOf(name, Sources) {
		return nil, userError("unknown source %q (one of %s)", name, quoteAll(Sources))
	}
	r, err := h.cat.Resolve(ctx, name, model)
	if err != nil {
		return nil, err
	}
	ms, err := h.cat.models(ctx, r, model)
	if err != nil {
		return nil, err
	}
	if len(ms) != 1 {
		return nil, unknownModel(model, ms)
	}
	return &ms[0], nil
}

// queryModels returns the models a query covers. Over every model with a named version, the models
// that list their versions without that one are left out (a model that lists none is kept). Over
// every model, at most limits.MaxModels (the first by name) are covered, with a warning notice.
func (h *Handler) queryModels(ctx context.Context, r Resolved, q *Query) ([]source.Model, []data.Notice, error) {
	models, err := h.cat.models(ctx, r, q.Model)
	if err != nil {
		return nil, nil, err
	}
	if !allModels(q.Model) {
		return models, nil, nil
	}
	out := models
	if q.Version != "" && q.Version != WildcardAllVersions {
		out = make([]source.Model, 0, len(models))
		for _, m := range models {
			if len(m.Versions) == 0 || m.HasVersion(q.Version) {
				out = append(out, m)
			}
		}
	}
	if len(out) <= limits.MaxModels {
		return out, nil, nil
	}
	n := frames.WarningNotice(fmt.Sprintf("%s lists %d models: only the first %d by name (%s … %s) are covered; choose a model to see the others",
		r.Name, len(out), limits.MaxModels, out[0].Name, out[limits.MaxModels-1].Name))
	return out[:limits.MaxModels], []data.Notice{n}, nil
}
