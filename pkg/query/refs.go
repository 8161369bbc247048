package query

import (
	"context"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
)

// ReferenceCache keeps prepared reference samples between queries (*refstats.Cache).
type ReferenceCache interface {
	Get(ctx context.Context, key string, fetch func(ctx context.Context) (*source.Batch, error)) (*refstats.Prepared, error)
}

// datasetReference returns the prepared reference sample of a model (version "" for all
// versions), through the reference cache keyed by source, model and version.
func (h *Handler) datasetReference(ctx context.Context, src Resolved, model, version string) (refSample, error) {
	fetch := func(ctx context.Context) (*source.Batch, error) {
		b, err := src.Log.Reference(ctx, model, version)
		if err != nil {
			return nil, sourceError(src.Name, err)
		}
		if b == nil {
			b = &source.Batch{Model: model}
		}
		return b, nil
	}
	if h.deps.References == nil {
		b, err := fetch(ctx)
		if err != nil {
			return nil, err
		}
		return refstats.NewPrepared(model, version, b, nil), nil
	}
	p, err := h.deps.References.Get(ctx, src.Name+"\x00"+refstats.Key(model, version), fetch)
	if err != nil {
		return nil, sourceError(src.Name, err)
	}
	return p, nil
}
