// Package stats holds the pure numeric kernels of ModelLens: sorting and cleaning of samples,
// type-7 percentiles, binning, binned drift distances (PSI, Jensen–Shannon, Hellinger, TVD,
// symmetric KL, L∞, MLRun's general drift), raw-sample measures (two-sample Kolmogorov–Smirnov
// statistic and p-value, Wasserstein-1), the chi-square test of homogeneity and the drift status
// thresholds.
//
// Every function is defined against a named reference (numpy 1.24 / scipy 1.10) and tested
// against values that reference produced on the same data. The package has no SDK imports and
// never panics on bad numeric input: degenerate input (empty, mismatched lengths, NaN) gives NaN,
// as each function's doc comment states.
package stats
