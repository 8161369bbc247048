// Package stats holds the pure numeric kernels of ModelLens: sorting and cleaning of samples,
// type-7 percentiles, binning, binned drift distances (PSI, Jensen–Shannon, Hellinger, TVD,
// symmetric KL, L∞, MLRun's general drift), raw-sample measures (two-sample Kolmogorov–Smirnov
// statistic and p-value, Wasserstein-1) and the chi-square test of homogeneity (DESIGN §5). It
// imports only the standard library and gonum. Kernels take numbers, never method names: the
// default thresholds and the drift status rule belong to the query vocabulary (pkg/query).
//
// Every function is defined against a named reference (numpy 1.24 / scipy 1.10, or MLRun for
// KLD and the general drift value) and tested against values that reference produced on the
// same data (reference_values_test.go, kolmogorov_grid_test.go; the generating scripts are in
// testdata/).
//
// Conventions:
//   - Bins: interior edges e0 < e1 < ... define len(edges)+1 bins, bin 0 = (-Inf, e0),
//     bin i = [e_{i-1}, e_i), last = [e_last, +Inf); a value on an edge goes to the bin on its
//     right.
//   - Binned distances take p = reference proportions and q = current proportions.
//   - Raw-sample measures take both samples sorted ascending (SortFloat64s) without NaN.
//   - Functions that fill a slice take a dst and reuse it when its capacity is enough, so hot
//     paths run without allocating.
//   - Bad numeric input never panics: empty input, mismatched lengths, NaN where it is not
//     allowed, or too few categories give NaN (each doc comment says exactly when).
package stats

// Check is how a long kernel learns that its caller gave up: the kernels whose name ends in Check
// call it at bounded intervals (about every CheckEvery values of work) and stop at its first
// error, which they return. A nil Check never stops. Callers pass a context's Err method
// (ctx.Err); the kernels stay free of contexts and I/O.
type Check func() error

// CheckEvery is about how many values a Check kernel processes between two calls of its check.
const CheckEvery = 1 << 16
