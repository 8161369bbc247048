package stats

import (
	"math"
	"sort"
)

// Model quality kernels (DESIGN §5 "Model quality"): the scikit-learn 1.2 definitions of
// accuracy_score, precision_recall_fscore_support (zero_division=0), roc_auc_score, log_loss,
// brier_score_loss, mean_absolute_error, mean_squared_error(squared=False),
// mean_absolute_percentage_error and r2_score; the expected calibration error over sklearn's
// calibration_curve bins; and bias. Each is checked against sklearn 1.2.1 on the same data
// (quality_reference_test.go, testdata/gen_quality.py).

// sum is a compensated (Neumaier) running sum: sums of up to a few million terms keep about full
// double precision, so results agree with numpy's pairwise sums far inside 1e-9.
type sum struct{ s, c float64 }

func (k *sum) add(v float64) {
	t := k.s + v
	if math.Abs(k.s) >= math.Abs(v) {
		k.c += (k.s - t) + v
	} else {
		k.c += (v - t) + k.s
	}
	k.s = t
}

func (k *sum) value() float64 { return k.s + k.c }

// checker calls check every CheckEvery calls of tick.
type checker struct {
	check Check
	n     int
}

func (c *checker) tick() error {
	if c.check == nil {
		return nil
	}
	if c.n++; c.n%CheckEvery == 0 {
		return c.check()
	}
	return nil
}

// Confusion is a K×K confusion matrix of counts: Counts[t*K+p] records with true class t
// predicted as p. Classes are codes 0..K−1 chosen by the caller.
type Confusion struct {
	K      int
	Counts []float64
}

// NewConfusion returns an empty K×K matrix.
func NewConfusion(k int) *Confusion {
	if k < 0 {
		k = 0
	}
	return &Confusion{K: k, Counts: make([]float64, k*k)}
}

// Reset empties the matrix.
func (c *Confusion) Reset() { clear(c.Counts) }

// Add counts one record of true class t predicted as p; codes outside 0..K−1 are ignored.
func (c *Confusion) Add(t, p int) {
	if t >= 0 && p >= 0 && t < c.K && p < c.K {
		c.Counts[t*c.K+p]++
	}
}

// Total is the number of records counted.
func (c *Confusion) Total() float64 {
	var n float64
	for _, v := range c.Counts {
		n += v
	}
	return n
}

// Accuracy is the share of records on the diagonal, = sklearn.metrics.accuracy_score(y, ŷ);
// NaN for an empty matrix.
func (c *Confusion) Accuracy() float64 {
	n := c.Total()
	if n == 0 {
		return math.NaN()
	}
	var d float64
	for i := 0; i < c.K; i++ {
		d += c.Counts[i*c.K+i]
	}
	return d / n
}

// Present reports the classes that occur as a true or a predicted class (the labels sklearn's
// unique_labels(y, ŷ) finds, over which macro and weighted averages run).
func (c *Confusion) Present() []bool {
	out := make([]bool, c.K)
	for t := 0; t < c.K; t++ {
		for p := 0; p < c.K; p++ {
			if c.Counts[t*c.K+p] > 0 {
				out[t], out[p] = true, true
			}
		}
	}
	return out
}

// ClassPRF returns precision, recall, F1 and support (true count) of class k, as
// sklearn.metrics.precision_recall_fscore_support(y, ŷ, labels=[k], average=None,
// zero_division=0): precision = tp/(tp+fp), recall = tp/(tp+fn), each 0 when its denominator is
// 0, and F1 = 2·precision·recall/(precision+recall), 0 when both are 0. A class outside the
// matrix gives zeros.
func (c *Confusion) ClassPRF(k int) (precision, recall, f1, support float64) {
	if k < 0 || k >= c.K {
		return 0, 0, 0, 0
	}
	var tp, pred, truth float64
	tp = c.Counts[k*c.K+k]
	for j := 0; j < c.K; j++ {
		pred += c.Counts[j*c.K+k]
		truth += c.Counts[k*c.K+j]
	}
	if pred > 0 {
		precision = tp / pred
	}
	if truth > 0 {
		recall = tp / truth
	}
	if d := precision + recall; d != 0 {
		f1 = 2 * precision * recall / d
	}
	return precision, recall, f1, truth
}

// Average selects how per-class values combine.
type Average int

// Averages of precision, recall and F1.
const (
	// Macro is the unweighted mean over the present classes (average="macro").
	Macro Average = iota
	// Weighted is the mean over the present classes weighted by their support (average="weighted").
	Weighted
)

// AveragePRF returns the macro or weighted precision, recall and F1 over the present classes,
// as precision_recall_fscore_support(y, ŷ, average=..., zero_division=0). An empty matrix gives
// NaN.
func (c *Confusion) AveragePRF(avg Average) (precision, recall, f1 float64) {
	present := c.Present()
	var sp, sr, sf, sw float64
	n := 0
	for k, ok := range present {
		if !ok {
			continue
		}
		p, r, f, s := c.ClassPRF(k)
		w := 1.0
		if avg == Weighted {
			w = s
		}
		sp += w * p
		sr += w * r
		sf += w * f
		sw += w
		n++
	}
	if n == 0 {
		return math.NaN(), math.NaN(), math.NaN()
	}
	if sw == 0 { // weighted with no true records: sklearn's zero_division value
		return 0, 0, 0
	}
	return sp / sw, sr / sw, sf / sw
}

// ROCAUCCheck returns the area under the ROC curve of scores for the binary truth positive, =
// sklearn.metrics.roc_auc_score(positive, scores): the Mann–Whitney statistic
// P(score of a positive > score of a negative) + ½·P(equal), computed from integer counts after
// sorting each class's scores (ties across classes count one half, which is the trapezoidal area
// sklearn integrates). NaN when either class is absent, when the lengths differ, or when a score
// is NaN. check is called while sorting large inputs.
func ROCAUCCheck(scores []float64, positive []bool, check Check) (float64, error) {
	if len(scores) != len(positive) {
		return math.NaN(), nil
	}
	var pos, neg []float64
	for i, s := range scores {
		if s != s {
			return math.NaN(), nil
		}
		if positive[i] {
			pos = append(pos, s)
		} else {
			neg = append(neg, s)
		}
	}
	if len(pos) == 0 || len(neg) == 0 {
		return math.NaN(), nil
	}
	if err := SortFloat64sCheck(pos, check); err != nil {
		return math.NaN(), err
	}
	if err := SortFloat64sCheck(neg, check); err != nil {
		return math.NaN(), err
	}
	// u2 = Σ over positives of 2·#{neg < s} + #{neg == s}: exact in int64 below 2^62.
	var u2 int64
	lo, hi := 0, 0 // neg[:lo] < s, neg[:hi] <= s
	for _, s := range pos {
		for lo < len(neg) && neg[lo] < s {
			lo++
		}
		if hi < lo {
			hi = lo
		}
		for hi < len(neg) && neg[hi] <= s {
			hi++
		}
		u2 += int64(2*lo + (hi - lo))
	}
	return float64(u2) / (2 * float64(len(pos)) * float64(len(neg))), nil
}

// LogLossEps is the clipping of log_loss (DESIGN §5): scikit-learn's historical default eps.
const LogLossEps = 1e-15

// LogLoss returns the binary cross-entropy of the probabilities p of the positive class, =
// sklearn.metrics.log_loss(positive, p, eps=eps) in scikit-learn 1.2: each p is clipped to
// [eps, 1−eps], the pair (1−p, p) renormalised by its sum, and the loss is the mean of
// −ln(probability of the true class). NaN for empty or mismatched input, a NaN p, or when only one
// class is present (sklearn refuses that without explicit labels).
func LogLoss(p []float64, positive []bool, eps float64) float64 {
	if len(p) == 0 || len(p) != len(positive) {
		return math.NaN()
	}
	var s sum
	npos := 0
	for i, v := range p {
		if v != v {
			return math.NaN()
		}
		v = math.Max(eps, math.Min(1-eps, v))
		q1, q0 := v, 1-v
		t := q0 + q1
		if positive[i] {
			npos++
			s.add(-math.Log(q1 / t))
		} else {
			s.add(-math.Log(q0 / t))
		}
	}
	if npos == 0 || npos == len(p) {
		return math.NaN()
	}
	return s.value() / float64(len(p))
}

// Brier returns the mean squared difference between the probability p of the positive class and
// the truth (1 positive, 0 not), = sklearn.metrics.brier_score_loss(positive, p). NaN for empty or
// mismatched input, or a p outside [0, 1] (sklearn rejects it).
func Brier(p []float64, positive []bool) float64 {
	if len(p) == 0 || len(p) != len(positive) {
		return math.NaN()
	}
	var s sum
	for i, v := range p {
		if !(v >= 0 && v <= 1) {
			return math.NaN()
		}
		y := 0.0
		if positive[i] {
			y = 1
		}
		s.add((y - v) * (y - v))
	}
	return s.value() / float64(len(p))
}

// ECEBins is the number of equal-width score bins of ECE (DESIGN §5).
const ECEBins = 10

// ECE returns the expected calibration error Σ_b (n_b/n)·|mean(y_b) − mean(p_b)| over ECEBins
// equal-width bins of p on [0, 1], binned as sklearn.calibration.calibration_curve(y, p,
// n_bins=10, strategy="uniform") bins: edges e_i = i·0.1 (numpy.linspace(0, 1, 11)) and p in bin
// #{interior edges < p} (numpy.searchsorted(edges[1:-1], p)), so a value on an edge belongs to
// the bin on its left, 0 to the first and 1 to the last. y is the outcome of each record: 1 or 0
// (the truth for the probability of the positive class; or whether the prediction was right, for
// the probability of the predicted class — the confidence ECE). NaN for empty or mismatched
// input, or a p or y outside [0, 1].
func ECE(p, y []float64) float64 {
	if len(p) == 0 || len(p) != len(y) {
		return math.NaN()
	}
	var n [ECEBins]float64
	var sp, sy [ECEBins]sum
	for i, v := range p {
		if !(v >= 0 && v <= 1) || !(y[i] >= 0 && y[i] <= 1) {
			return math.NaN()
		}
		b := 0
		for b < ECEBins-1 && float64(b+1)*0.1 < v {
			b++
		}
		n[b]++
		sp[b].add(v)
		sy[b].add(y[i])
	}
	total := float64(len(p))
	var e sum
	for b := range n {
		if n[b] == 0 {
			continue
		}
		e.add(n[b] / total * math.Abs(sy[b].value()/n[b]-sp[b].value()/n[b]))
	}
	return e.value()
}

// regression walks the pairs (truth, prediction) and returns NaN for empty or mismatched input
// or a NaN in either.
func regression(truth, pred []float64, term func(y, yhat float64) float64) float64 {
	if len(truth) == 0 || len(truth) != len(pred) {
		return math.NaN()
	}
	var s sum
	for i, y := range truth {
		if y != y || pred[i] != pred[i] {
			return math.NaN()
		}
		s.add(term(y, pred[i]))
	}
	return s.value() / float64(len(truth))
}

// MAE is mean |y − ŷ|, = sklearn.metrics.mean_absolute_error(y, ŷ).
func MAE(truth, pred []float64) float64 {
	return regression(truth, pred, func(y, yhat float64) float64 { return math.Abs(yhat - y) })
}

// RMSE is sqrt(mean (y − ŷ)²), = sklearn.metrics.mean_squared_error(y, ŷ, squared=False).
func RMSE(truth, pred []float64) float64 {
	return math.Sqrt(regression(truth, pred, func(y, yhat float64) float64 { return (y - yhat) * (y - yhat) }))
}

// MAPE is mean |y − ŷ| / max(|y|, ε) with ε the float64 machine epsilon, =
// sklearn.metrics.mean_absolute_percentage_error(y, ŷ) (a share, not a percentage: 0.1 is 10 %).
func MAPE(truth, pred []float64) float64 {
	const eps = 0x1p-52 // numpy.finfo(numpy.float64).eps
	return regression(truth, pred, func(y, yhat float64) float64 { return math.Abs(yhat-y) / math.Max(math.Abs(y), eps) })
}

// Bias is mean(ŷ − y) (DESIGN §5): positive when the model over-predicts.
func Bias(truth, pred []float64) float64 {
	return regression(truth, pred, func(y, yhat float64) float64 { return yhat - y })
}

// R2 is the coefficient of determination 1 − Σ(y − ŷ)²/Σ(y − ȳ)², = sklearn.metrics.r2_score(y, ŷ)
// (scikit-learn 1.2, force_finite=True): a constant truth gives 1 when every prediction is exact
// and 0 otherwise; fewer than two records give NaN, as do mismatched lengths or a NaN.
func R2(truth, pred []float64) float64 {
	if len(truth) < 2 || len(truth) != len(pred) {
		return math.NaN()
	}
	var my sum
	for i, y := range truth {
		if y != y || pred[i] != pred[i] {
			return math.NaN()
		}
		my.add(y)
	}
	mean := my.value() / float64(len(truth))
	var num, den sum
	for i, y := range truth {
		num.add((y - pred[i]) * (y - pred[i]))
		den.add((y - mean) * (y - mean))
	}
	n, d := num.value(), den.value()
	switch {
	case d == 0 && n == 0:
		return 1
	case d == 0:
		return 0
	}
	return 1 - n/d
}

// Isotonic is a fitted increasing isotonic regression: Predict interpolates linearly between the
// points (X[i], Y[i]) and clips outside [X[0], X[len−1]], as
// sklearn.isotonic.IsotonicRegression(out_of_bounds="clip") predicts.
type Isotonic struct {
	X, Y []float64
}

// isotonicTieEps is numpy.finfo(float64).resolution: sklearn's _make_unique merges sorted x values
// closer than this.
const isotonicTieEps = 1e-15

// FitIsotonicCheck fits an increasing isotonic regression of y on x with unit weights, as
// sklearn.isotonic.IsotonicRegression(out_of_bounds="clip").fit(x, y) does: the pairs are sorted by
// x (then y), the y of x values closer than 1e-15 to the first of their run are averaged (one
// point per run, weighted by its size), and pool-adjacent-violators gives the increasing fit.
// Pairs with a NaN are dropped; nil when no pair remains. check is called while sorting and
// pooling large inputs.
func FitIsotonicCheck(x, y []float64, check Check) (*Isotonic, error) {
	if len(x) != len(y) {
		return nil, nil
	}
	idx := make([]int, 0, len(x))
	for i := range x {
		if x[i] == x[i] && y[i] == y[i] {
			idx = append(idx, i)
		}
	}
	if len(idx) == 0 {
		return nil, nil
	}
	if check != nil {
		if err := check(); err != nil {
			return nil, err
		}
	}
	sort.Slice(idx, func(a, b int) bool {
		ia, ib := idx[a], idx[b]
		if x[ia] != x[ib] {
			return x[ia] < x[ib]
		}
		return y[ia] < y[ib]
	})
	ck := checker{check: check}
	// Unique x: weighted means of y.
	ux := make([]float64, 0, len(idx))
	uy := make([]float64, 0, len(idx))
	uw := make([]float64, 0, len(idx))
	cur := x[idx[0]]
	var sy, sw float64
	for _, i := range idx {
		if err := ck.tick(); err != nil {
			return nil, err
		}
		if x[i]-cur >= isotonicTieEps {
			ux, uy, uw = append(ux, cur), append(uy, sy/sw), append(uw, sw)
			cur, sy, sw = x[i], 0, 0
		}
		sy += y[i]
		sw++
	}
	ux, uy, uw = append(ux, cur), append(uy, sy/sw), append(uw, sw)
	// Pool adjacent violators over blocks (value, weight, length).
	type block struct {
		v, w float64
		n    int
	}
	blocks := make([]block, 0, len(uy))
	for i := range uy {
		if err := ck.tick(); err != nil {
			return nil, err
		}
		b := block{uy[i], uw[i], 1}
		for len(blocks) > 0 && blocks[len(blocks)-1].v >= b.v {
			top := blocks[len(blocks)-1]
			blocks = blocks[:len(blocks)-1]
			w := top.w + b.w
			b = block{(top.v*top.w + b.v*b.w) / w, w, top.n + b.n}
		}
		blocks = append(blocks, b)
	}
	fy := make([]float64, 0, len(uy))
	for _, b := range blocks {
		for j := 0; j < b.n; j++ {
			fy = append(fy, b.v)
		}
	}
	return &Isotonic{X: ux, Y: fy}, nil
}

// Predict returns the fitted value at v: linear interpolation between the fitted points, the end
// values outside their range; NaN for a NaN v or an empty fit.
func (m *Isotonic) Predict(v float64) float64 {
	if m == nil || len(m.X) == 0 || v != v {
		return math.NaN()
	}
	n := len(m.X)
	if v <= m.X[0] {
		return m.Y[0]
	}
	if v >= m.X[n-1] {
		return m.Y[n-1]
	}
	j := sort.SearchFloat64s(m.X, v) // X[j-1] < v <= X[j]
	if m.X[j] == v {
		return m.Y[j]
	}
	x0, x1, y0, y1 := m.X[j-1], m.X[j], m.Y[j-1], m.Y[j]
	return y0 + (v-x0)*(y1-y0)/(x1-x0)
}

// ExpectedConfusion is the confusion matrix of a binary classifier expected from calibrated
// probabilities (confidence-based performance estimation, CBPE, as NannyML defines it): with p_i
// the calibrated probability that record i is positive, a record predicted positive adds p_i to TP
// and 1−p_i to FP, one predicted negative adds p_i to FN and 1−p_i to TN.
type ExpectedConfusion struct{ TP, FP, FN, TN float64 }

// ExpectedConfusionOf sums the expected confusion matrix of the records (p[i], predictedPositive[i]);
// records with a NaN p are skipped.
func ExpectedConfusionOf(p []float64, predictedPositive []bool) ExpectedConfusion {
	var tp, fp, fn, tn sum
	for i, v := range p {
		if v != v || i >= len(predictedPositive) {
			continue
		}
		if predictedPositive[i] {
			tp.add(v)
			fp.add(1 - v)
		} else {
			fn.add(v)
			tn.add(1 - v)
		}
	}
	return ExpectedConfusion{TP: tp.value(), FP: fp.value(), FN: fn.value(), TN: tn.value()}
}

// Accuracy is (TP+TN)/(TP+FP+FN+TN); NaN when empty.
func (c ExpectedConfusion) Accuracy() float64 {
	n := c.TP + c.FP + c.FN + c.TN
	if n == 0 {
		return math.NaN()
	}
	return (c.TP + c.TN) / n
}

// Precision is TP/(TP+FP), 0 when no record is predicted positive (zero_division=0).
func (c ExpectedConfusion) Precision() float64 {
	if d := c.TP + c.FP; d > 0 {
		return c.TP / d
	}
	return 0
}

// Recall is TP/(TP+FN), 0 when no positive is expected.
func (c ExpectedConfusion) Recall() float64 {
	if d := c.TP + c.FN; d > 0 {
		return c.TP / d
	}
	return 0
}

// F1 is TP/(TP + ½(FP+FN)), 0 when TP is 0.
func (c ExpectedConfusion) F1() float64 {
	if d := c.TP + 0.5*(c.FP+c.FN); d > 0 && c.TP > 0 {
		return c.TP / d
	}
	return 0
}

// EstimatedROCAUCCheck returns the CBPE estimate of the ROC AUC from calibrated probabilities p of
// the positive class, NannyML's construction (the records ranked by p itself), with the curve
// started at (0, 0) as sklearn.metrics.roc_curve starts it: at each distinct threshold t
// (descending), expected
// TP(t) = Σ_{p_i ≥ t} p_i, FP(t) = Σ_{p_i ≥ t} (1−p_i); TPR = TP/Σp, FPR = FP/Σ(1−p); the area
// under the curve from (0, 0) through these points, by the trapezoidal rule. NaN when empty, when
// a p is NaN, or when Σp or Σ(1−p) is 0. check is called while sorting large inputs.
func EstimatedROCAUCCheck(p []float64, check Check) (float64, error) {
	if len(p) == 0 {
		return math.NaN(), nil
	}
	s := make([]float64, len(p))
	copy(s, p)
	for _, v := range s {
		if v != v {
			return math.NaN(), nil
		}
	}
	if err := SortFloat64sCheck(s, check); err != nil {
		return math.NaN(), err
	}
	var totP, totN sum
	for _, v := range s {
		totP.add(v)
		totN.add(1 - v)
	}
	tp, tn := totP.value(), totN.value()
	if tp <= 0 || tn <= 0 {
		return math.NaN(), nil
	}
	var area sum
	var cp, cn sum
	prevX, prevY := 0.0, 0.0
	for i := len(s) - 1; i >= 0; {
		t := s[i]
		for i >= 0 && s[i] == t {
			cp.add(s[i])
			cn.add(1 - s[i])
			i--
		}
		x, y := cn.value()/tn, cp.value()/tp
		area.add((x - prevX) * (y + prevY) / 2)
		prevX, prevY = x, y
	}
	return area.value(), nil
}
