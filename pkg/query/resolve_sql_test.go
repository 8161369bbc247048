package query

import (
	"context"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestAutoPicksSQLForItsModels: auto takes the Prediction Log for the models it knows, PostgreSQL
// for the models its table holds, and never the demo fleet for a model of a database that failed.
func TestAutoPicksSQLForItsModels(t *testing.T) {
	other := source.Model{Name: "churn", Versions: []string{"v1"}}
	pl := &fakeLog{models: []source.Model{iris}}
	db := &fakeLog{models: []source.Model{other}}
	h := New(Deps{PredictionLog: pl, SQL: db, Demo: nil})
	ctx := context.Background()
	r, err := h.cat.Resolve(ctx, SourceAuto, "iris")
	require.NoError(t, err)
	require.Equal(t, SourcePredictionLog, r.Name)
	r, err = h.cat.Resolve(ctx, SourceAuto, "churn")
	require.NoError(t, err)
	require.Equal(t, SourceSQL, r.Name)
	_, err = h.cat.Resolve(ctx, SourceAuto, "nope")
	require.ErrorIs(t, err, source.ErrUnknownModel)
	r, err = h.cat.Resolve(ctx, SourceSQL, "")
	require.NoError(t, err)
	require.Equal(t, SourceSQL, r.Name)

	// Only PostgreSQL: every model; a database that fails is an error, not the demo fleet.
	down := &fakeLog{err: errors.New("connection refused")}
	h = New(Deps{SQL: down, Demo: &fakeLog{models: []source.Model{other}}})
	r, err = h.cat.Resolve(ctx, SourceAuto, "")
	require.NoError(t, err)
	require.Equal(t, SourceSQL, r.Name)
	_, err = h.cat.Resolve(ctx, SourceAuto, "churn")
	require.Error(t, err)
	require.ErrorContains(t, err, "connection refused")
}
