package query

import (
	"context"

	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

// FeatureStore is the Feast registry of the data source (pkg/source/feast.Reader).
type FeatureStore interface {
	// Project is the configured Feast project.
	Project() string
	// Registry returns the project's registry (cached for a short TTL).
	Registry(ctx context.Context) (*feast.Registry, error)
	// FeatureView returns the registry and one of its views; an unknown view's error wraps
	// feast.ErrUnknownFeatureView.
	FeatureView(ctx context.Context, name string) (*feast.Registry, *feast.FeatureView, error)
}

// FeastRegistry returns the configured Feast registry for the resources, or an error saying
// Feast is not configured.
func (h *Handler) FeastRegistry(ctx context.Context) (*feast.Registry, error) {
	if h.deps.Feast == nil {
		return nil, userError("%v", feast.ErrNotConfigured)
	}
	return h.deps.Feast.Registry(ctx)
}

// featureViews returns the views a Feast query names (`featureView`: a name, or empty/"*" for
// every view of the project, sorted by name).
func (h *Handler) featureViews(ctx context.Context, name string) (*feast.Registry, []*feast.FeatureView, error) {
	if h.deps.Feast == nil {
		return nil, nil, userError("%v", feast.ErrNotConfigured)
	}
	if name != "" && name != "*" {
		reg, v, err := h.deps.Feast.FeatureView(ctx, name)
		if err != nil {
			return nil, nil, err
		}
		return reg, []*feast.FeatureView{v}, nil
	}
	reg, err := h.deps.Feast.Registry(ctx)
	if err != nil {
		return nil, nil, err
	}
	out := make([]*feast.FeatureView, 0, len(reg.FeatureViews))
	for _, n := range reg.FeatureViewNames() {
		v, _ := reg.FeatureView(h.deps.Feast.Project(), n)
		out = append(out, v)
	}
	return reg, out, nil
}
