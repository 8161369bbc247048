package stats

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"sort"
	"testing"
)

// qualityTable is testdata/quality_reference.json: data and the values scikit-learn 1.2.1 computed
// on them (testdata/gen_quality.py has each exact call).
type qualityTable struct {
	Generator  string                    `json:"generator"`
	Binary     map[string]binaryCase     `json:"binary"`
	Multiclass map[string]classCase      `json:"multiclass"`
	Regression map[string]regressionCase `json:"regression"`
}

type prf struct{ Precision, Recall, F1 float64 }

type classCase struct {
	Y, Yhat  []string
	Accuracy float64
	Classes  []string
	PerClass struct{ Precision, Recall, F1, Support []float64 }
	Macro    prf
	Weighted prf
}

type binaryCase struct {
	classCase
	P        []float64
	Positive string
	Binary   prf
	ROCAUC   float64 `json:"roc_auc"`
	LogLoss  float64 `json:"log_loss"`
	Brier    float64
	ECE      float64
	Isotonic struct{ X, Y []float64 }
}

type regressionCase struct {
	Y, Yhat                   []float64
	MAE, RMSE, MAPE, R2, Bias float64
}

func loadQualityTable(t *testing.T) qualityTable {
	t.Helper()
	raw, err := os.ReadFile("testdata/quality_reference.json")
	if err != nil {
		t.Fatal(err)
	}
	var tab qualityTable
	if err := json.Unmarshal(raw, &tab); err != nil {
		t.Fatal(err)
	}
	if len(tab.Binary) == 0 || len(tab.Multiclass) == 0 || len(tab.Regression) == 0 {
		t.Fatal("empty reference table")
	}
	t.Logf("reference: %s", tab.Generator)
	return tab
}

func checkRef(t *testing.T, what string, got, want float64) {
	t.Helper()
	if !closeRel(got, want, refRel, refAbs) {
		t.Errorf("%s: got %v, sklearn %v", what, got, want)
	}
}

// confusionOf codes the classes as the sorted class list of the case.
func confusionOf(c *classCase) *Confusion {
	code := map[string]int{}
	for i, k := range c.Classes {
		code[k] = i
	}
	m := NewConfusion(len(c.Classes))
	for i := range c.Y {
		m.Add(code[c.Y[i]], code[c.Yhat[i]])
	}
	return m
}

func checkClassification(t *testing.T, name string, c *classCase) {
	m := confusionOf(c)
	checkRef(t, name+" accuracy", m.Accuracy(), c.Accuracy)
	for k := range c.Classes {
		p, r, f, s := m.ClassPRF(k)
		checkRef(t, name+" precision "+c.Classes[k], p, c.PerClass.Precision[k])
		checkRef(t, name+" recall "+c.Classes[k], r, c.PerClass.Recall[k])
		checkRef(t, name+" f1 "+c.Classes[k], f, c.PerClass.F1[k])
		checkRef(t, name+" support "+c.Classes[k], s, c.PerClass.Support[k])
	}
	for _, a := range []struct {
		avg  Average
		name string
		want prf
	}{{Macro, "macro", c.Macro}, {Weighted, "weighted", c.Weighted}} {
		p, r, f := m.AveragePRF(a.avg)
		checkRef(t, name+" "+a.name+" precision", p, a.want.Precision)
		checkRef(t, name+" "+a.name+" recall", r, a.want.Recall)
		checkRef(t, name+" "+a.name+" f1", f, a.want.F1)
	}
}

// TestClassificationReference: accuracy, per-class/macro/weighted/binary precision, recall and F1
// (zero_division=0) against sklearn on binary and three-class data, one class only ever predicted.
func TestClassificationReference(t *testing.T) {
	tab := loadQualityTable(t)
	for name, c := range tab.Multiclass {
		checkClassification(t, name, &c)
	}
	for name, c := range tab.Binary {
		checkClassification(t, name, &c.classCase)
		m := confusionOf(&c.classCase)
		pos := sort.SearchStrings(c.Classes, c.Positive)
		p, r, f, _ := m.ClassPRF(pos)
		checkRef(t, name+" binary precision", p, c.Binary.Precision)
		checkRef(t, name+" binary recall", r, c.Binary.Recall)
		checkRef(t, name+" binary f1", f, c.Binary.F1)
	}
}

// TestScoreMetricsReference: roc_auc (with ties), log_loss (eps 1e-15, scores of exactly 0 and 1),
// brier, ece and the isotonic fit against sklearn.
func TestScoreMetricsReference(t *testing.T) {
	tab := loadQualityTable(t)
	for name, c := range tab.Binary {
		positive := make([]bool, len(c.Y))
		y := make([]float64, len(c.Y))
		for i, v := range c.Y {
			positive[i] = v == c.Positive
			if positive[i] {
				y[i] = 1
			}
		}
		auc, err := ROCAUCCheck(c.P, positive, nil)
		if err != nil {
			t.Fatal(err)
		}
		checkRef(t, name+" roc_auc", auc, c.ROCAUC)
		checkRef(t, name+" log_loss", LogLoss(c.P, positive, LogLossEps), c.LogLoss)
		checkRef(t, name+" brier", Brier(c.P, positive), c.Brier)
		checkRef(t, name+" ece", ECE(c.P, y), c.ECE)
		iso, err := FitIsotonicCheck(c.P, y, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, x := range c.Isotonic.X {
			checkRef(t, name+" isotonic", iso.Predict(x), c.Isotonic.Y[i])
		}
	}
}

// TestRegressionReference: mae, rmse, mape (truth with zeros), r2 (constant truth both ways), bias.
func TestRegressionReference(t *testing.T) {
	tab := loadQualityTable(t)
	for name, c := range tab.Regression {
		checkRef(t, name+" mae", MAE(c.Y, c.Yhat), c.MAE)
		checkRef(t, name+" rmse", RMSE(c.Y, c.Yhat), c.RMSE)
		checkRef(t, name+" mape", MAPE(c.Y, c.Yhat), c.MAPE)
		checkRef(t, name+" r2", R2(c.Y, c.Yhat), c.R2)
		checkRef(t, name+" bias", Bias(c.Y, c.Yhat), c.Bias)
	}
}

// TestQualityDegenerate: empty, one-class and mismatched inputs give NaN, never a panic.
func TestQualityDegenerate(t *testing.T) {
	nan := func(what string, v float64) {
		t.Helper()
		if !math.IsNaN(v) {
			t.Errorf("%s = %v, want NaN", what, v)
		}
	}
	nan("accuracy of nothing", NewConfusion(2).Accuracy())
	p, _, _ := NewConfusion(3).AveragePRF(Macro)
	nan("macro precision of nothing", p)
	auc, _ := ROCAUCCheck([]float64{0.1, 0.9}, []bool{true, true}, nil)
	nan("roc_auc of one class", auc)
	auc, _ = ROCAUCCheck([]float64{0.1}, []bool{true, false}, nil)
	nan("roc_auc of mismatched lengths", auc)
	auc, _ = ROCAUCCheck([]float64{math.NaN(), 0.2}, []bool{true, false}, nil)
	nan("roc_auc with NaN", auc)
	nan("log_loss of one class", LogLoss([]float64{0.3, 0.4}, []bool{false, false}, LogLossEps))
	nan("log_loss of nothing", LogLoss(nil, nil, LogLossEps))
	nan("brier outside [0,1]", Brier([]float64{1.5}, []bool{true}))
	nan("ece outside [0,1]", ECE([]float64{-0.1}, []float64{0}))
	nan("ece of nothing", ECE(nil, nil))
	nan("mae of nothing", MAE(nil, nil))
	nan("r2 of one", R2([]float64{1}, []float64{2}))
	nan("rmse with NaN", RMSE([]float64{1, math.NaN()}, []float64{1, 2}))
	nan("cbpe accuracy of nothing", ExpectedConfusion{}.Accuracy())
	est, _ := EstimatedROCAUCCheck([]float64{1, 1}, nil)
	nan("estimated roc_auc without negatives", est)
	if iso, _ := FitIsotonicCheck([]float64{math.NaN()}, []float64{1}, nil); iso != nil {
		t.Error("isotonic fit of nothing")
	}
	if v := (*Isotonic)(nil).Predict(0.5); !math.IsNaN(v) {
		t.Error("nil isotonic predicts")
	}
}

// TestQualityKernelsStop: the sorting kernels stop at a failing check.
func TestQualityKernelsStop(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	n := 1 << 18
	s, pos := make([]float64, n), make([]bool, n)
	for i := range s {
		s[i] = r.Float64()
		pos[i] = r.Float64() < s[i]
	}
	stop := func() error { return errStopped }
	if _, err := ROCAUCCheck(s, pos, stop); !errors.Is(err, errStopped) {
		t.Errorf("roc_auc: %v", err)
	}
	if _, err := EstimatedROCAUCCheck(s, stop); !errors.Is(err, errStopped) {
		t.Errorf("estimated roc_auc: %v", err)
	}
	y := make([]float64, n)
	if _, err := FitIsotonicCheck(s, y, stop); !errors.Is(err, errStopped) {
		t.Errorf("isotonic: %v", err)
	}
}

// FuzzQualityKernels feeds arbitrary values (NaN, ±Inf, out-of-range probabilities, mismatched
// lengths) to the model-quality kernels: nothing may panic, and bounded results stay in range.
func FuzzQualityKernels(f *testing.F) {
	f.Add(fuzzSeed(0.1, 0.9, 0.5, 0.5, 1, 0), uint8(3))
	f.Add(fuzzSeed(math.NaN(), math.Inf(1), -1, 2, 0, 1e-300), uint8(2))
	f.Add(fuzzSeed(), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, cut uint8) {
		x, y := floatsFrom(data, cut)
		pos := make([]bool, len(x))
		for i := range pos {
			pos[i] = i < len(y) && y[i] > 0.5
		}
		inUnit := func(what string, v float64) {
			if !math.IsNaN(v) && !(v >= 0 && v <= 1) {
				t.Fatalf("%s = %v outside [0, 1]", what, v)
			}
		}
		auc, _ := ROCAUCCheck(x, pos, nil)
		inUnit("roc_auc", auc)
		est, _ := EstimatedROCAUCCheck(x, nil)
		_ = est
		inUnit("brier", Brier(x, pos))
		inUnit("ece", ECE(x, y))
		if v := LogLoss(x, pos, LogLossEps); !math.IsNaN(v) && v < 0 {
			t.Fatalf("log_loss %v", v)
		}
		MAE(x, y)
		RMSE(x, y)
		MAPE(x, y)
		R2(x, y)
		Bias(x, y)
		iso, _ := FitIsotonicCheck(x, y, nil)
		for _, v := range y {
			iso.Predict(v)
		}
		ExpectedConfusionOf(x, pos).F1()
		m := NewConfusion(3)
		for i := range x {
			m.Add(int(cut)%4-1, i%4)
		}
		inUnit("accuracy", m.Accuracy())
		p, r, f1 := m.AveragePRF(Weighted)
		inUnit("precision", p)
		inUnit("recall", r)
		inUnit("f1", f1)
	})
}

// BenchmarkROCAUC: one window of 100,000 scored records.
func BenchmarkROCAUC(b *testing.B) {
	r := rand.New(rand.NewPCG(5, 6))
	n := 100_000
	s, pos := make([]float64, n), make([]bool, n)
	for i := range s {
		s[i] = r.Float64()
		pos[i] = r.Float64() < s[i]
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ROCAUCCheck(s, pos, nil); err != nil {
			b.Fatal(err)
		}
	}
}
