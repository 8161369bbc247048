package stats

import (
	"errors"
	"math"

	"gonum.org/v1/gonum/mat"
	"gonum.org/v1/gonum/stat"
)

// PCA is a principal component model of standardised data, for NannyML's data reconstruction
// drift (`pca_reconstruction`): each variable is imputed (a missing value becomes the reference
// mean) and standardised with the reference mean and population standard deviation (sklearn's
// SimpleImputer(strategy="mean") and StandardScaler); PCA (gonum's stat.PC) keeps the fewest
// leading components whose variance reaches the asked share of the total; a row's reconstruction
// error is the Euclidean distance between its standardised values z and their reconstruction
// from the kept components, ‖z − V·Vᵀ·z‖ (the data are centred, so no mean is added back).
type PCA struct {
	// Mean and Std standardise each variable (Std > 0).
	Mean, Std []float64
	// Components holds the kept component directions in its columns (d×K).
	Components *mat.Dense
	K          int
	// Explained is the share of the total variance the kept components carry.
	Explained float64
}

// ErrPCAInput is returned for data PCA cannot be fitted on.
var ErrPCAInput = errors.New("pca: need at least 2 rows and 2 variables with spread")

// FitPCA fits a PCA on the n×d row-major data x (NaN = missing), keeping the fewest components
// whose variance reaches share (in (0, 1]) of the total. Every variable must have a spread (a
// constant variable is the caller's to leave out). check is called between the steps (nil: never).
func FitPCA(x []float64, n, d int, share float64, check Check) (*PCA, error) {
	if n < 2 || d < 2 || len(x) != n*d || !(share > 0 && share <= 1) {
		return nil, ErrPCAInput
	}
	p := &PCA{Mean: make([]float64, d), Std: make([]float64, d)}
	cnt := make([]float64, d)
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			if !math.IsNaN(v) {
				p.Mean[j] += v
				cnt[j]++
			}
		}
	}
	for j := range p.Mean {
		if cnt[j] == 0 {
			return nil, ErrPCAInput
		}
		p.Mean[j] /= cnt[j]
	}
	for i := 0; i < n; i++ {
		for j, v := range x[i*d : (i+1)*d] {
			if !math.IsNaN(v) {
				dv := v - p.Mean[j]
				p.Std[j] += dv * dv
			}
		}
	}
	for j := range p.Std {
		// Imputed values add zeros to the sum: the standard deviation of the imputed column.
		p.Std[j] = math.Sqrt(p.Std[j] / float64(n))
		if !(p.Std[j] > 0) {
			return nil, ErrPCAInput
		}
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	z := mat.NewDense(n, d, nil)
	row := make([]float64, d)
	for i := 0; i < n; i++ {
		p.Standardise(x[i*d:(i+1)*d], row)
		z.SetRow(i, row)
	}
	var pc stat.PC
	if !pc.PrincipalComponents(z, nil) {
		return nil, ErrPCAInput
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	vars := pc.VarsTo(nil)
	total := 0.0
	for _, v := range vars {
		total += v
	}
	var vecs mat.Dense
	pc.VectorsTo(&vecs)
	kept := 0.0
	for p.K < len(vars) {
		kept += vars[p.K]
		p.K++
		// A relative tolerance: 65 % of a total that sums to 0.65·total must count as reached.
		if kept >= share*total*(1-1e-12) {
			break
		}
	}
	p.Explained = kept / total
	p.Components = mat.DenseCopyOf(vecs.Slice(0, d, 0, p.K))
	return p, nil
}

// Standardise writes the imputed, standardised values of row into z.
func (p *PCA) Standardise(row, z []float64) {
	for j, v := range row {
		if math.IsNaN(v) {
			z[j] = 0
		} else {
			z[j] = (v - p.Mean[j]) / p.Std[j]
		}
	}
}

// Reconstructor computes reconstruction errors of rows, reusing its buffers. Not safe for
// concurrent use; one PCA serves any number of them.
type Reconstructor struct {
	mean, inv []float64
	// v is the d×k component matrix, row-major.
	v       []float64
	k       int
	z, proj []float64
}

// NewReconstructor returns a Reconstructor of p.
func (p *PCA) NewReconstructor() *Reconstructor {
	d := len(p.Mean)
	r := &Reconstructor{mean: p.Mean, inv: make([]float64, d), v: make([]float64, 0, d*p.K), k: p.K,
		z: make([]float64, d), proj: make([]float64, p.K)}
	for j := range r.inv {
		r.inv[j] = 1 / p.Std[j]
		for k := 0; k < p.K; k++ {
			r.v = append(r.v, p.Components.At(j, k))
		}
	}
	return r
}

// Error returns the reconstruction error ‖z − V·Vᵀ·z‖ of one row of len(Mean) values (NaN =
// missing, imputed with the mean).
func (r *Reconstructor) Error(row []float64) float64 {
	z, proj, v, k := r.z[:len(row)], r.proj, r.v, r.k
	for i := range proj {
		proj[i] = 0
	}
	for j, x := range row {
		zj := 0.0
		if x == x { // not NaN
			zj = (x - r.mean[j]) * r.inv[j]
		}
		z[j] = zj
		for i, c := range v[j*k : j*k+k] {
			proj[i] += c * zj
		}
	}
	s := 0.0
	for j, zj := range z {
		rec := 0.0
		for i, c := range v[j*k : j*k+k] {
			rec += c * proj[i]
		}
		e := zj - rec
		s += e * e
	}
	return math.Sqrt(s)
}

// ChunkBounds splits the n×d rows x into consecutive chunks of chunk rows (a last partial chunk
// is left out), takes each chunk's mean reconstruction error, and returns the mean m and the
// population standard deviation s of those chunk means with the bounds m ± 3s (the lower bound
// at least 0): NannyML's thresholds for data reconstruction drift. With fewer than 2 chunks all
// are NaN.
func (p *PCA) ChunkBounds(x []float64, n, d, chunk int) (mean, std, lower, upper float64) {
	nan := math.NaN()
	if chunk < 1 || n/chunk < 2 || len(x) != n*d || d != len(p.Mean) {
		return nan, nan, nan, nan
	}
	r := p.NewReconstructor()
	m := n / chunk
	means := make([]float64, m)
	for c := 0; c < m; c++ {
		s := 0.0
		for i := c * chunk; i < (c+1)*chunk; i++ {
			s += r.Error(x[i*d : (i+1)*d])
		}
		means[c] = s / float64(chunk)
	}
	mean, std = MeanStd(means)
	return mean, std, math.Max(0, mean-3*std), mean + 3*std
}
