package predlog

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestModelsFetchShared: concurrent callers share one GET /models; the first caller giving up does
// not fail the others; a failed fetch is the answer of every waiter, not retried by each.
func TestModelsFetchShared(t *testing.T) {
	var n atomic.Int64
	release := make(chan struct{})
	fail := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		<-release
		if fail.Load() {
			http.Error(w, "down", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"models":[{"name":"m","features":[],"prediction":{"type":"numeric"}}]}`))
	}))
	t.Cleanup(srv.Close)

	for _, failing := range []bool{false, true} {
		fail.Store(failing)
		n.Store(0)
		c, err := New(&http.Client{Timeout: 5 * time.Second}, Options{BaseURL: srv.URL})
		require.NoError(t, err)
		release = make(chan struct{})
		// The first caller gives up at once.
		short, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		_, err = c.Models(short)
		cancel()
		require.Error(t, err)
		var wg sync.WaitGroup
		errs := make([]error, 5)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ms, err := c.Models(context.Background())
				errs[i] = err
				if err == nil {
					require.Len(t, ms, 1)
				}
			}()
		}
		time.Sleep(100 * time.Millisecond)
		close(release)
		wg.Wait()
		for _, err := range errs {
			if failing {
				require.ErrorContains(t, err, "503")
			} else {
				require.NoError(t, err)
			}
		}
		require.Equal(t, int64(1), n.Load(), "one GET /models for every caller (failing=%v)", failing)
	}
}

// TestModelsFailureAnsweredForAWhile: a caller that comes just after a failed GET /models gets
// that failure (a failing upstream is asked once per burst); after ModelsErrorTTL it is asked again.
func TestModelsFailureAnsweredForAWhile(t *testing.T) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		http.Error(w, "down", http.StatusServiceUnavailable)
	}))
	t.Cleanup(srv.Close)
	c, err := New(&http.Client{Timeout: 5 * time.Second}, Options{BaseURL: srv.URL})
	require.NoError(t, err)
	now := time.Unix(1_700_000_000, 0)
	c.now = func() time.Time { return now }
	_, err1 := c.Models(context.Background())
	require.Error(t, err1)
	now = now.Add(ModelsErrorTTL / 2)
	_, err2 := c.Models(context.Background())
	require.Error(t, err2)
	require.Equal(t, err1.Error(), err2.Error())
	require.Equal(t, int64(1), n.Load(), "the failure is answered again within ModelsErrorTTL")
	now = now.Add(ModelsErrorTTL)
	_, err = c.Models(context.Background())
	require.Error(t, err)
	require.Equal(t, int64(2), n.Load(), "after ModelsErrorTTL the upstream is asked again")
}
