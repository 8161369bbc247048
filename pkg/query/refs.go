package query

import (
	"context"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// datasetReference returns the prepared reference sample of a model (version "" for all versions).
func (h *Handler) datasetReference(ctx context.Context, src Resolved, model, version string) (refSample, error) {
	b, err := src.Log.Reference(ctx, model, version)
	if err != nil {
		return nil, sourceError(src.Name, err)
	}
	if b == nil {
		b = &source.Batch{Model: model}
	}
	return newLocalRef(b, nil), nil
}
