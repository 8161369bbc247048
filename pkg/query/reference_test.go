package query

import (
	"errors"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

func refOf(n int) refSample {
	b := &source.Batch{Model: "ranker", TS: make([]int64, n), Features: map[string]*source.Column{}}
	return refstats.NewPrepared("ranker", "", b, nil)
}

func cand(n int) func() (candidate, error) {
	return func() (candidate, error) {
		return candidate{ref: refOf(n), what: "the reference sample", used: datasetUsed}, nil
	}
}

func failing(err error) func() (candidate, error) {
	return func() (candidate, error) { return candidate{what: "the reference sample", used: datasetUsed}, err }
}

func noticeText(ns []data.Notice) string {
	var b strings.Builder
	for _, n := range ns {
		b.WriteString(n.Text + "\n")
	}
	return b.String()
}

// TestChooseReference is the version-fallback policy: own (≥ 2 rows), else pooled with a
// warning, else an error; "no reference" answers (404, empty, unknown version) all count as none,
// other failures are returned.
func TestChooseReference(t *testing.T) {
	fallback := "model ranker has no reference sample for version v2: compared with the reference of all its versions"
	for name, own := range map[string]func() (candidate, error){
		"empty":       cand(0),
		"one row":     cand(1),
		"404":         failing(source.ErrNoReference),
		"unknown ver": failing(source.ErrUnknownModel),
	} {
		ref, ns, err := chooseReference("ranker", "v2", own, cand(50))
		require.NoError(t, err, name)
		require.Equal(t, 50, ref.Rows(), name)
		require.Contains(t, noticeText(ns), fallback, name)
		require.Equal(t, data.NoticeSeverityWarning, ns[0].Severity, name)
		require.Contains(t, noticeText(ns), "reference: dataset of model ranker, 50 rows", name)

		_, _, err = chooseReference("ranker", "v2", own, cand(1))
		require.ErrorIs(t, err, source.ErrNoReference, name)
		require.ErrorContains(t, err, `, and that of all its versions 1; drift needs at least 2`)
		require.True(t, backend.IsDownstreamError(err), name)
	}
	ref, ns, err := chooseReference("ranker", "v2", cand(7), cand(50))
	require.NoError(t, err)
	require.Equal(t, 7, ref.Rows())
	require.NotContains(t, noticeText(ns), fallback)
	require.Contains(t, noticeText(ns), "reference: dataset of model ranker version v2, 7 rows")

	// Without a version only the pooled reference is asked.
	ref, _, err = chooseReference("ranker", "", func() (candidate, error) { panic("own asked") }, cand(3))
	require.NoError(t, err)
	require.Equal(t, 3, ref.Rows())

	// A failure that is not "no reference" is never hidden by the fallback.
	boom := errors.New("upstream timed out")
	_, _, err = chooseReference("ranker", "v2", failing(boom), cand(50))
	require.ErrorIs(t, err, boom)
	_, _, err = chooseReference("ranker", "v2", cand(0), failing(boom))
	require.ErrorIs(t, err, boom)
}

func TestOwnVersionAndCap(t *testing.T) {
	b := &source.Batch{Model: "ranker", Versions: []string{"v1", "", "v2"},
		TS: make([]int64, 6), Version: []int32{0, 1, 2, 0, 2, 1},
		Features: map[string]*source.Column{"f": {Kind: source.Numeric, Num: []float64{0, 1, 2, 3, 4, 5}}}}
	own := ownVersion(b, "v2")
	require.Equal(t, []float64{1, 2, 4, 5}, own.Features["f"].Num, "rows of other versions are dropped, rows without one kept")
	only := &source.Batch{Versions: []string{"v2", ""}}
	require.Same(t, only, ownVersion(only, "v2"), "nothing to drop: the batch itself")

	big := &source.Batch{Model: "ranker", TS: make([]int64, 1000), Features: map[string]*source.Column{"f": {Kind: source.Numeric, Num: make([]float64, 1000)}}}
	for i := range big.TS {
		big.Features["f"].Num[i] = float64(i)
	}
	s1, s2 := capReference(big, 100), capReference(big, 100)
	require.Equal(t, 100, s1.Len())
	require.EqualValues(t, 1000, s1.SampledFrom)
	require.Equal(t, s1.Features["f"].Num, s2.Features["f"].Num, "deterministic")
	require.Same(t, big, capReference(big, 1000))
}
