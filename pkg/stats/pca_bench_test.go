package stats

import (
	"testing"
)

// pcaData returns n rows of d correlated variables (row-major): variable j is one of five shared
// factors (j mod 5) plus its own noise, so that about five components carry most of the variance.
func pcaData(seed uint64, n, d int) []float64 {
	r := &lcg{seed}
	x := make([]float64, n*d)
	var f [5]float64
	for i := 0; i < n; i++ {
		for k := range f {
			f[k] = r.next() + r.next() + r.next() - 1.5
		}
		for j := 0; j < d; j++ {
			x[i*d+j] = float64(j%3+1)*f[j%5] + 0.4*(r.next()-0.5)
		}
	}
	return x
}

// BenchmarkPCAFit fits the PCA of 20 variables on 100,000 reference rows and computes its chunk
// bounds: what a pca_reconstruction query pays once per reference (then cached).
func BenchmarkPCAFit(b *testing.B) {
	const n, d = 100_000, 20
	x := pcaData(1, n, d)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, err := FitPCA(x, n, d, 0.65, nil)
		if err != nil {
			b.Fatal(err)
		}
		p.ChunkBounds(x, n, d, 500)
	}
}

// BenchmarkPCAReconstruct1M computes the reconstruction errors of 1,000,000 current rows of 20
// variables: what every pca_reconstruction query pays over its records.
func BenchmarkPCAReconstruct1M(b *testing.B) {
	const n, d = 1_000_000, 20
	p, err := FitPCA(pcaData(1, 100_000, d), 100_000, d, 0.65, nil)
	if err != nil {
		b.Fatal(err)
	}
	x := pcaData(2, n, d)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r := p.NewReconstructor()
		s := 0.0
		for k := 0; k < n; k++ {
			s += r.Error(x[k*d : (k+1)*d])
		}
		if !(s > 0) {
			b.Fatal(s)
		}
	}
	b.ReportMetric(float64(p.K), "components")
}
