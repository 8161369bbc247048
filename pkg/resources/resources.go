// Package resources serves the ModelLens resource endpoints used by the query editor's dropdowns
// and by template variables (through the SDK's httpadapter):
//
//	GET /models                    [{"name","versions":[..],"features":[{"name","type"}],"prediction":{"type"}}]
//	GET /models/{model}/versions   ["v1","v2"]
//	GET /models/{model}/features   [{"name","type"}]  (input features only)
//	GET /feast/featureViews        [{"name","entities","joinKeys","features":[{"name","type"}],"ttlSeconds","online","batchSource","lastMaterialized"}]
//	GET /feast/featureViews/{name} one of those
//	GET /feast/entities            [{"name","joinKey","type","description"}]
//
// Every endpoint takes an optional ?source= that picks the source as queries do. An unknown model
// answers 404 with {"error": "..."}; a bad request 400; an upstream failure 502.
package resources

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

// Catalog is what the resources read models from (query.Handler implements it).
type Catalog interface {
	// Models lists every model of a source (name is a query `source` value; empty for auto).
	Models(ctx context.Context, name string) ([]source.Model, error)
	// Model returns one model; an unknown model's error wraps source.ErrUnknownModel.
	Model(ctx context.Context, name, model string) (*source.Model, error)
}

// New returns the resource handler. Build it once per data source instance.
func New(c Catalog) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /models", func(w http.ResponseWriter, r *http.Request) {
		models, err := c.Models(r.Context(), r.URL.Query().Get("source"))
		if err != nil {
			writeError(w, err)
			return
		}
		out := make([]source.Model, len(models))
		for i, m := range models {
			out[i] = normalise(m)
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /models/{model}/versions", func(w http.ResponseWriter, r *http.Request) {
		m, err := c.Model(r.Context(), r.URL.Query().Get("source"), r.PathValue("model"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, normalise(*m).Versions)
	})
	mux.HandleFunc("GET /models/{model}/features", func(w http.ResponseWriter, r *http.Request) {
		m, err := c.Model(r.Context(), r.URL.Query().Get("source"), r.PathValue("model"))
		if err != nil {
			writeError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, normalise(*m).Features)
	})
	if fs, ok := c.(FeatureStore); ok {
		feastRoutes(mux, fs)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusNotFound, errorBody{Error: "no resource " + r.Method + " " + r.URL.Path + " (try GET /models)"})
	})
	return mux
}

// normalise gives empty lists rather than nulls, so the frontend can iterate without checks.
func normalise(m source.Model) source.Model {
	if m.Versions == nil {
		m.Versions = []string{}
	}
	if m.Features == nil {
		m.Features = []source.Feature{}
	}
	if m.Prediction.Type == "" {
		m.Prediction.Type = source.Numeric
	}
	return m
}

type errorBody struct {
	Error string `json:"error"`
}

// writeError maps an error to a status: unknown model 404, other user mistakes 400, upstream
// failures 502, our bugs 500. The message never carries secrets: sources do not put them in errors.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, source.ErrUnknownModel), errors.Is(err, feast.ErrUnknownFeatureView):
		status = http.StatusNotFound
	case errors.Is(err, context.DeadlineExceeded):
		status = http.StatusGatewayTimeout
	case backend.IsDownstreamError(err):
		status = http.StatusBadGateway
		var ws backend.ErrorWithSource
		if errors.As(err, &ws) && isUserError(err) {
			status = http.StatusBadRequest
		}
	}
	writeJSON(w, status, errorBody{Error: err.Error()})
}

// UserError marks an error as a mistake in the request (answered 400 rather than 502).
type UserError interface{ UserError() bool }

func isUserError(err error) bool {
	var u UserError
	return errors.As(err, &u) && u.UserError()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		b = []byte(`{"error":"cannot encode the response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
