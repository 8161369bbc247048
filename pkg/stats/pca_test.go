package stats

import (
	"encoding/json"
	"math"
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

type pcaRef struct {
	N, D                              int
	Ref, Cur                          [][]*float64
	K                                 int
	Explained                         float64
	CurErr, RefErr                    []float64
	Chunk                             int
	ChunkMean, ChunkStd, Lower, Upper float64
}

func flatten(rows [][]*float64) []float64 {
	var out []float64
	for _, r := range rows {
		for _, v := range r {
			if v == nil {
				out = append(out, math.NaN())
			} else {
				out = append(out, *v)
			}
		}
	}
	return out
}

// TestPCAAgainstSklearn checks FitPCA, Reconstructor.Error and ChunkBounds against scikit-learn on
// testdata/pca_ref.json (testdata/gen_pca.py has the exact calls). Tolerance 1e-9: both compute
// an SVD of the same standardised matrix (LAPACK gesdd vs gonum's gesvd); the components agree to
// ~1e-12 up to sign, which the reconstruction does not see.
func TestPCAAgainstSklearn(t *testing.T) {
	b, err := os.ReadFile("testdata/pca_ref.json")
	require.NoError(t, err)
	var ref pcaRef
	require.NoError(t, json.Unmarshal(b, &ref))
	x := flatten(ref.Ref)
	p, err := FitPCA(x, ref.N, ref.D, 0.65, nil)
	require.NoError(t, err)
	require.Equal(t, ref.K, p.K)
	require.InDelta(t, ref.Explained, p.Explained, 1e-12)
	r := p.NewReconstructor()
	for i, want := range ref.RefErr {
		require.InDelta(t, want, r.Error(x[i*ref.D:(i+1)*ref.D]), 1e-9, "reference row %d", i)
	}
	cur := flatten(ref.Cur)
	for i, want := range ref.CurErr {
		require.InDelta(t, want, r.Error(cur[i*ref.D:(i+1)*ref.D]), 1e-9, "current row %d", i)
	}
	m, s, lo, hi := p.ChunkBounds(x, ref.N, ref.D, ref.Chunk)
	require.InDelta(t, ref.ChunkMean, m, 1e-9)
	require.InDelta(t, ref.ChunkStd, s, 1e-9)
	require.InDelta(t, ref.Lower, lo, 1e-9)
	require.InDelta(t, ref.Upper, hi, 1e-9)
	// The current rows break the reference's correlations: their mean error is above the bound.
	mean, _ := MeanStd(ref.CurErr)
	require.Greater(t, mean, hi)
}

func TestPCABadInput(t *testing.T) {
	_, err := FitPCA([]float64{1, 2}, 1, 2, 0.65, nil)
	require.ErrorIs(t, err, ErrPCAInput)
	_, err = FitPCA([]float64{1, 5, 1, 6, 1, 7}, 3, 2, 0.65, nil) // a constant variable
	require.ErrorIs(t, err, ErrPCAInput)
	_, err = FitPCA([]float64{math.NaN(), 5, math.NaN(), 6}, 2, 2, 0.65, nil) // a variable without values
	require.ErrorIs(t, err, ErrPCAInput)
	_, err = FitPCA([]float64{1, 5, 2, 6}, 2, 2, 0, nil)
	require.ErrorIs(t, err, ErrPCAInput)
	p, err := FitPCA([]float64{1, 5, 2, 7, 3, 6, 4, 9}, 4, 2, 0.65, nil)
	require.NoError(t, err)
	m, _, _, _ := p.ChunkBounds([]float64{1, 5, 2, 7, 3, 6, 4, 9}, 4, 2, 3) // one chunk: no bounds
	require.True(t, math.IsNaN(m))
}
