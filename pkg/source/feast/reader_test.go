package feast

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
)

func TestFileReader(t *testing.T) {
	ctx := context.Background()
	r, err := New(Options{Settings: settings.FeastSettings{Project: fixtureProject, RegistryPath: fixturePath(t)}})
	require.NoError(t, err)
	defer r.Close()
	reg, err := r.Registry(ctx)
	require.NoError(t, err)
	require.Equal(t, fixtureViews(), reg.FeatureViews)
	require.Equal(t, fixtureEntities(), reg.Entities)
	require.Len(t, reg.FeatureServices, 5)

	_, v, err := r.FeatureView(ctx, "zipcode_features")
	require.NoError(t, err)
	require.Equal(t, "zipcode_features", v.Name)
	_, _, err = r.FeatureView(ctx, "driver_hourly")
	require.ErrorIs(t, err, ErrUnknownFeatureView)
	require.ErrorContains(t, err, `"driver_hourly" is not a feature view of project "credit_scoring_aws" (it has "credit_history", "zipcode_features", "zipcode_money_features")`)

	r2, err := New(Options{Settings: settings.FeastSettings{Project: "fraud", RegistryPath: fixturePath(t)}})
	require.NoError(t, err)
	_, err = r2.Registry(ctx)
	require.ErrorContains(t, err, `project "fraud" is not in the registry (it has "credit_scoring_aws"): check feast.project`)
}

func TestFileReaderErrors(t *testing.T) {
	dir := t.TempDir()
	corruptFile := filepath.Join(dir, "corrupt.db")
	b := fixtureBytes(t)
	require.NoError(t, os.WriteFile(corruptFile, b[:len(b)/2], 0o600))
	empty := filepath.Join(dir, "empty.db")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	for path, want := range map[string]string{
		filepath.Join(dir, "missing.db"): "missing.db does not exist (check feast.registry.path)",
		dir:                              "is a directory",
		empty:                            "empty.db is empty",
		corruptFile:                      "corrupt Feast registry data at registry: field 8: unexpected EOF",
	} {
		r, err := New(Options{Settings: settings.FeastSettings{Project: "p", RegistryPath: path}})
		require.NoError(t, err)
		_, err = r.Registry(context.Background())
		require.ErrorContains(t, err, "feast registry file: ")
		require.ErrorContains(t, err, want, path)
	}
}

// TestReaderCache: one read per TTL however many callers; failures are not kept.
func TestReaderCache(t *testing.T) {
	var loads atomic.Int32
	now := time.Unix(1_700_000_000, 0)
	var fail atomic.Bool
	release := make(chan struct{})
	r := &Reader{project: "p", kind: "test", ttl: time.Minute, timeout: time.Second, now: func() time.Time { return now }}
	r.load = func(ctx context.Context) (*Registry, error) {
		loads.Add(1)
		<-release
		if fail.Load() {
			return nil, errors.New("boom")
		}
		return &Registry{FeatureViews: []FeatureView{{Name: "v", Project: "p"}}}, nil
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reg, err := r.Registry(context.Background())
			require.NoError(t, err)
			require.Len(t, reg.FeatureViews, 1)
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(release)
	wg.Wait()
	require.EqualValues(t, 1, loads.Load(), "concurrent callers share one read")
	_, err := r.Registry(context.Background())
	require.NoError(t, err)
	require.EqualValues(t, 1, loads.Load(), "within the TTL the registry is reused")

	now = now.Add(2 * time.Minute)
	fail.Store(true)
	_, err = r.Registry(context.Background())
	require.ErrorContains(t, err, "feast test: boom")
	_, err = r.Registry(context.Background())
	require.Error(t, err)
	require.EqualValues(t, 3, loads.Load(), "a failure is not cached")

	// A caller that gives up does not wait for the read.
	fail.Store(false)
	block := make(chan struct{})
	r.load = func(ctx context.Context) (*Registry, error) { <-block; return &Registry{}, nil }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = r.Registry(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	close(block)
}
