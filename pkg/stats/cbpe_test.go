package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// betaish draws from Beta(a, b) as X/(X+Y) with gamma variates (Marsaglia–Tsang).
func betaish(r *rand.Rand, a, b float64) float64 {
	x, y := gammaVariate(r, a), gammaVariate(r, b)
	return x / (x + y)
}

func gammaVariate(r *rand.Rand, k float64) float64 {
	if k < 1 {
		return gammaVariate(r, k+1) * math.Pow(r.Float64(), 1/k)
	}
	d := k - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		if u := r.Float64(); math.Log(u) < 0.5*x*x+d-d*v+d*math.Log(v) {
			return d * v
		}
	}
}

// TestCBPESimulation checks confidence-based performance estimation where its expectation is
// known. Each record has a true probability q of being positive; the model's score is the
// miscalibrated s = q^0.6 (monotone, so an isotonic calibration can undo it) and predicts positive
// when s >= 0.5^0.6 (q >= 0.5); the label is drawn with probability q. The calibration is fitted on
// a reference of 20,000 labelled records drawn from Beta(0.8, 2.2); 300 analysis windows of 2,000
// records come from a shifted Beta(0.9, 2.2) (covariate shift: P(y | s) is unchanged, so CBPE
// applies and the accuracy really changes).
//
// Stated errors, per window:
//   - against the known expectation E[accuracy] = mean(q if predicted positive else 1−q): within
//     0.006 (the isotonic fit on 20,000 rows misstates q by well under 1 % on average over a
//     window; measured worst case 0.0011);
//   - realised vs estimated accuracy: z = (realised − estimated)/SE with SE² = Σ c(1−c)/n², c the
//     probability that each record is classified right; |z| <= 1.96 in at least 90 % of windows
//     (95 % expected), and the mean of (realised − estimated) within 3·SE/√300 + 0.006;
//   - precision, recall, F1 and ROC AUC: within 0.02 of their expectation computed from q (ratios
//     of expected counts; ROC AUC from q with the same NannyML construction), and the mean
//     realised − estimated over the windows within 0.01.
func TestCBPESimulation(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const gamma = 0.6
	score := func(q float64) float64 { return math.Pow(q, gamma) }
	threshold := score(0.5)

	const nRef = 20000
	rs, ry := make([]float64, nRef), make([]float64, nRef)
	for i := range rs {
		q := betaish(r, 0.8, 2.2)
		rs[i] = score(q)
		if r.Float64() < q {
			ry[i] = 1
		}
	}
	iso, err := FitIsotonicCheck(rs, ry, nil)
	if err != nil || iso == nil {
		t.Fatal(err)
	}

	const windows, n = 300, 2000
	q := make([]float64, n)
	p := make([]float64, n)
	s := make([]float64, n)
	predPos := make([]bool, n)
	truth := make([]bool, n)
	within := 0
	maxDev := 0.0
	var sumDiff, sumSE2 float64
	var sumDiffPRF [4]float64
	for w := 0; w < windows; w++ {
		cm := NewConfusion(2)
		var expAcc, varAcc float64
		for i := range q {
			q[i] = betaish(r, 0.9, 2.2)
			s[i] = score(q[i])
			p[i] = iso.Predict(s[i])
			predPos[i] = s[i] >= threshold
			truth[i] = r.Float64() < q[i]
			c := 1 - q[i]
			if predPos[i] {
				c = q[i]
			}
			expAcc += c / n
			varAcc += c * (1 - c) / (n * n)
			ti, pi := 0, 0
			if truth[i] {
				ti = 1
			}
			if predPos[i] {
				pi = 1
			}
			cm.Add(ti, pi)
		}
		est := ExpectedConfusionOf(p, predPos)
		known := ExpectedConfusionOf(q, predPos)
		d := math.Abs(est.Accuracy() - expAcc)
		maxDev = math.Max(maxDev, d)
		if d > 0.006 {
			t.Fatalf("window %d: estimated accuracy %.4f, expectation %.4f", w, est.Accuracy(), expAcc)
		}
		realised := cm.Accuracy()
		se := math.Sqrt(varAcc)
		if math.Abs(realised-est.Accuracy()) <= 1.96*se {
			within++
		}
		sumDiff += realised - est.Accuracy()
		sumSE2 += varAcc

		rp, rr, rf, _ := cm.ClassPRF(1)
		rauc, _ := ROCAUCCheck(s, truth, nil)
		eauc, _ := EstimatedROCAUCCheck(p, nil)
		kauc, _ := EstimatedROCAUCCheck(q, nil)
		for k, pair := range [][3]float64{
			{rp, est.Precision(), known.Precision()},
			{rr, est.Recall(), known.Recall()},
			{rf, est.F1(), known.F1()},
			{rauc, eauc, kauc},
		} {
			if d := math.Abs(pair[1] - pair[2]); d > 0.02 {
				t.Fatalf("window %d metric %d: estimate %.4f, expectation %.4f", w, k, pair[1], pair[2])
			}
			sumDiffPRF[k] += pair[0] - pair[1]
		}
	}
	if share := float64(within) / windows; share < 0.90 {
		t.Errorf("realised accuracy within 1.96 SE of the estimate in %.1f%% of windows, want >= 90%%", 100*share)
	}
	meanDiff := sumDiff / windows
	if bound := 3*math.Sqrt(sumSE2/windows)/math.Sqrt(windows) + 0.006; math.Abs(meanDiff) > bound {
		t.Errorf("mean realised − estimated accuracy %.5f, bound %.5f", meanDiff, bound)
	}
	for k, d := range sumDiffPRF {
		if m := d / windows; math.Abs(m) > 0.01 {
			t.Errorf("metric %d: mean realised − estimated %.4f", k, m)
		}
	}
	t.Logf("accuracy: %d/%d windows within 1.96 SE, mean realised − estimated %.5f, largest |estimate − expectation| %.4f",
		within, windows, meanDiff, maxDev)
}

// TestCBPEDetectsShift: on a window whose scores moved towards 0.5 the estimated accuracy falls
// as the realised one does, without labels.
func TestCBPEDetectsShift(t *testing.T) {
	r := rand.New(rand.NewPCG(21, 22))
	draw := func(a, b float64, n int) (acc, est float64) {
		p := make([]float64, n)
		pos := make([]bool, n)
		cm := NewConfusion(2)
		for i := range p {
			p[i] = betaish(r, a, b)
			pos[i] = p[i] >= 0.5
			y := r.Float64() < p[i]
			ti, pi := 0, 0
			if y {
				ti = 1
			}
			if pos[i] {
				pi = 1
			}
			cm.Add(ti, pi)
		}
		return cm.Accuracy(), ExpectedConfusionOf(p, pos).Accuracy()
	}
	acc0, est0 := draw(0.5, 4, 5000) // confident
	acc1, est1 := draw(4, 4, 5000)   // near 0.5
	if !(est1 < est0-0.2 && acc1 < acc0-0.2) {
		t.Errorf("before: realised %.3f estimated %.3f; after: realised %.3f estimated %.3f", acc0, est0, acc1, est1)
	}
}
