package resources

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

// FeatureStore is what the Feast resources read (query.Handler implements it).
type FeatureStore interface {
	// FeastRegistry returns the configured project's registry, or an error when Feast is not
	// configured.
	FeastRegistry(ctx context.Context) (*feast.Registry, error)
}

// FeastField is a feature or join key with Feast's value type name (INT64, STRING, ...).
type FeastField struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// BatchSource says where a feature view's batch data lives.
type BatchSource struct {
	Name                   string `json:"name"`
	Type                   string `json:"type"`
	Table                  string `json:"table,omitempty"`
	Query                  string `json:"query,omitempty"`
	Path                   string `json:"path,omitempty"`
	TimestampField         string `json:"timestampField"`
	CreatedTimestampColumn string `json:"createdTimestampColumn,omitempty"`
}

// FeatureViewInfo is one item of GET /feast/featureViews.
type FeatureViewInfo struct {
	Name     string   `json:"name"`
	Entities []string `json:"entities"`
	// JoinKeys are the entities' join keys with their types.
	JoinKeys   []FeastField `json:"joinKeys"`
	Features   []FeastField `json:"features"`
	TTLSeconds float64      `json:"ttlSeconds"`
	Online     bool         `json:"online"`
	// BatchSource is null for a view without one.
	BatchSource *BatchSource `json:"batchSource"`
	// LastMaterialized is the latest end of a materialization interval (RFC 3339), null when the
	// view was never materialized.
	LastMaterialized *time.Time `json:"lastMaterialized"`
}

// EntityInfo is one item of GET /feast/entities.
type EntityInfo struct {
	Name        string `json:"name"`
	JoinKey     string `json:"joinKey"`
	Type        string `json:"type"`
	Description string `json:"description,omitempty"`
}

func feastFields(fs []feast.Field) []FeastField {
	out := make([]FeastField, len(fs))
	for i, f := range fs {
		out[i] = FeastField{Name: f.Name, Type: f.ValueType.String()}
	}
	return out
}

// ViewInfo describes a registry's feature view for the editor and template variables.
func ViewInfo(reg *feast.Registry, v *feast.FeatureView) FeatureViewInfo {
	info := FeatureViewInfo{Name: v.Name, Entities: v.Entities, JoinKeys: feastFields(reg.JoinKeys(v)),
		Features: feastFields(v.Features), TTLSeconds: v.TTL.Seconds(), Online: v.Online}
	if info.Entities == nil {
		info.Entities = []string{}
	}
	if b := v.BatchSource; b.Name != "" || b.Table != "" || b.Path != "" || b.Query != "" {
		info.BatchSource = &BatchSource{Name: b.Name, Type: b.Type, Table: b.Table, Query: b.Query, Path: b.Path,
			TimestampField: b.TimestampField, CreatedTimestampColumn: b.CreatedTimestampColumn}
	}
	if t := v.LastMaterialized(); !t.IsZero() {
		info.LastMaterialized = &t
	}
	return info
}

func feastRoutes(mux *http.ServeMux, fs FeatureStore) {
	mux.HandleFunc("GET /feast/featureViews", func(w http.ResponseWriter, r *http.Request) {
		reg, err := fs.FeastRegistry(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		out := make([]FeatureViewInfo, 0, len(reg.FeatureViews))
		for _, name := range reg.FeatureViewNames() {
			v, _ := reg.FeatureView("", name)
			out = append(out, ViewInfo(reg, v))
		}
		writeJSON(w, http.StatusOK, out)
	})
	mux.HandleFunc("GET /feast/featureViews/{name}", func(w http.ResponseWriter, r *http.Request) {
		reg, err := fs.FeastRegistry(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		name := r.PathValue("name")
		v, ok := reg.FeatureView("", name)
		if !ok {
			writeError(w, backend.DownstreamError(fmt.Errorf("%w: %q (the project has %d feature views)", feast.ErrUnknownFeatureView, name, len(reg.FeatureViews))))
			return
		}
		writeJSON(w, http.StatusOK, ViewInfo(reg, v))
	})
	mux.HandleFunc("GET /feast/entities", func(w http.ResponseWriter, r *http.Request) {
		reg, err := fs.FeastRegistry(r.Context())
		if err != nil {
			writeError(w, err)
			return
		}
		out := make([]EntityInfo, 0, len(reg.Entities))
		for _, e := range reg.Entities {
			vt := e.ValueType
			if vt == feast.ValueInvalid {
				// Unset on the entity: the type its join key has in the views.
				for i := range reg.FeatureViews {
					for _, k := range reg.JoinKeys(&reg.FeatureViews[i]) {
						if k.Name == e.JoinKey && k.ValueType != feast.ValueInvalid {
							vt = k.ValueType
						}
					}
				}
			}
			out = append(out, EntityInfo{Name: e.Name, JoinKey: e.JoinKey, Type: vt.String(), Description: e.Description})
		}
		writeJSON(w, http.StatusOK, out)
	})
}
