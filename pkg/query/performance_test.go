package query

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// perfRec is one labelled record of perfLog.
type perfRec struct {
	ts      time.Time
	version string
	pred    any // string, float64 or nil
	score   float64
	label   any // string, float64 or nil
	labelTS time.Time
}

// perfLog is a prediction log of labelled records (one model per kind).
type perfLog struct {
	models []source.Model
	recs   map[string][]perfRec
	refs   map[string][]perfRec
}

func (l *perfLog) Models(context.Context) ([]source.Model, error) { return l.models, nil }

func (l *perfLog) model(name string) (source.Model, error) {
	for _, m := range l.models {
		if m.Name == name {
			return m, nil
		}
	}
	return source.Model{}, source.ErrUnknownModel
}

func perfBatch(m source.Model, rs []perfRec) *source.Batch {
	b := &source.Batch{Model: m.Name, Features: map[string]*source.Column{}}
	b.Prediction = source.NewColumn(m.Prediction.Type, len(rs))
	b.Label = source.NewColumn(m.Prediction.Type, len(rs))
	vcodes := map[string]int32{}
	for _, r := range rs {
		b.TS = append(b.TS, r.ts.UnixNano())
		c, ok := vcodes[r.version]
		if !ok {
			c = int32(len(b.Versions))
			vcodes[r.version] = c
			b.Versions = append(b.Versions, r.version)
		}
		b.Version = append(b.Version, c)
		b.LatencyMs = append(b.LatencyMs, 10)
		b.Error = append(b.Error, r.pred == nil)
		appendValue(b.Prediction, r.pred)
		appendValue(b.Label, r.label)
		b.Score = append(b.Score, r.score)
		lt := source.NoTime
		if !r.labelTS.IsZero() {
			lt = r.labelTS.UnixNano()
		}
		b.LabelTS = append(b.LabelTS, lt)
	}
	return b
}

func (l *perfLog) Records(_ context.Context, req source.RecordsRequest) (*source.Batch, error) {
	m, err := l.model(req.Model)
	if err != nil {
		return nil, err
	}
	var keep []perfRec
	for _, r := range l.recs[req.Model] {
		if r.ts.After(req.Start) && !r.ts.After(req.End) && (req.Version == "" || r.version == req.Version) {
			keep = append(keep, r)
		}
	}
	return perfBatch(m, keep), nil
}

func (l *perfLog) Reference(_ context.Context, model, version string) (*source.Batch, error) {
	m, err := l.model(model)
	if err != nil {
		return nil, err
	}
	rs, ok := l.refs[model]
	if !ok {
		return nil, source.ErrNoReference
	}
	return perfBatch(m, rs), nil
}

var (
	perfT0     = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	perfBinary = source.Model{Name: "fraud", Versions: []string{"v1"}, Prediction: source.Output{Type: source.Categorical}}
	perfMulti  = source.Model{Name: "churn", Versions: []string{"v1"}, Prediction: source.Output{Type: source.Categorical}}
	perfReg    = source.Model{Name: "price", Versions: []string{"v1"}, Prediction: source.Output{Type: source.Numeric}}
)

// perfFixture: two hours of records, one window per hour. The fraud score is the probability of
// the predicted class. The query runs at perfT0+3h: labels that arrive later are not known.
func perfFixture() (*perfLog, time.Time) {
	now := perfT0.Add(3 * time.Hour)
	at := func(h, m int) time.Time { return perfT0.Add(time.Duration(h)*time.Hour + time.Duration(m)*time.Minute) }
	l := &perfLog{models: []source.Model{perfBinary, perfMulti, perfReg}, recs: map[string][]perfRec{}, refs: map[string][]perfRec{}}
	// Hour 1 (window ending at 01:00): 6 records, 5 labelled (one label arrives after now).
	l.recs["fraud"] = []perfRec{
		{ts: at(0, 5), pred: "fraud", score: 0.9, label: "fraud", labelTS: at(0, 35)},   // TP, delay 1800 s
		{ts: at(0, 10), pred: "fraud", score: 0.6, label: "legit", labelTS: at(0, 20)},  // FP, 600 s
		{ts: at(0, 15), pred: "legit", score: 0.8, label: "fraud", labelTS: at(1, 15)},  // FN, 3600 s
		{ts: at(0, 20), pred: "legit", score: 0.95, label: "legit", labelTS: at(0, 21)}, // TN, 60 s
		{ts: at(0, 25), pred: "legit", score: 0.7, label: "legit"},                      // TN, no label_ts: known
		{ts: at(0, 30), pred: "legit", score: 0.7, label: "fraud", labelTS: at(5, 0)},   // label after now: unknown
		// Hour 2: 3 records, 2 labelled, an error record without prediction.
		{ts: at(1, 10), pred: "fraud", score: 0.99, label: "fraud", labelTS: at(1, 20)},
		{ts: at(1, 20), pred: "legit", score: 0.55, label: "legit", labelTS: at(2, 20)},
		{ts: at(1, 30), pred: nil, score: math.NaN(), label: nil},
	}
	l.refs["fraud"] = []perfRec{
		{pred: "fraud", score: 0.9, label: "fraud"}, {pred: "fraud", score: 0.6, label: "legit"},
		{pred: "legit", score: 0.8, label: "legit"}, {pred: "legit", score: 0.9, label: "legit"},
		{pred: "fraud", score: 0.7, label: "fraud"}, {pred: "legit", score: 0.6, label: "fraud"},
	}
	l.recs["churn"] = []perfRec{
		{ts: at(0, 5), pred: "stay", score: 0.7, label: "stay", labelTS: at(0, 6)},
		{ts: at(0, 6), pred: "churn", score: 0.5, label: "stay", labelTS: at(0, 7)},
		{ts: at(0, 7), pred: "downgrade", score: 0.4, label: "churn", labelTS: at(0, 8)},
	}
	l.recs["price"] = []perfRec{
		{ts: at(0, 5), pred: 100.0, label: 110.0, labelTS: at(0, 10)},
		{ts: at(0, 6), pred: 200.0, label: 190.0, labelTS: at(0, 10)},
		{ts: at(0, 7), pred: 300.0, label: 330.0, labelTS: at(9, 0)}, // not known yet
		{ts: at(0, 8), pred: 400.0, label: 380.0, labelTS: at(0, 10)},
	}
	return l, now
}

func perfHandler(l *perfLog, now time.Time) *Handler {
	return New(Deps{PredictionLog: l, Now: func() time.Time { return now }})
}

func perfRun(h *Handler, q map[string]any) (map[string][]float64, data.Frames, error) {
	q["queryType"] = "performance"
	r := run(h, q, perfT0, perfT0.Add(2*time.Hour), time.Hour)
	if r.Error != nil {
		return nil, nil, r.Error
	}
	out := map[string][]float64{}
	for _, f := range r.Frames {
		if len(f.Fields) == 0 {
			continue
		}
		v, _ := frames.Values(f)
		out[f.Fields[len(f.Fields)-1].Labels.String()] = v
	}
	return out, r.Frames, nil
}

func closeTo(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.IsNaN(want) {
		require.True(t, math.IsNaN(got), "%s: got %v, want NaN", what, got)
		return
	}
	require.InDelta(t, want, got, 1e-12, what)
}

// TestPerformanceClassification: realised metrics per window from the labels known at query time;
// labels that arrive after now are left out; coverage and delay; per-class and binary averages;
// score metrics from the probability of the predicted class.
func TestPerformanceClassification(t *testing.T) {
	l, now := perfFixture()
	h := perfHandler(l, now)
	got, fs, err := perfRun(h, map[string]any{"model": "fraud", "window": "1h",
		"metrics": []string{"accuracy", "precision", "recall", "f1", "labelCoverage", "labelDelay"}, "average": "binary", "positiveClass": "fraud"})
	require.NoError(t, err)
	require.NoError(t, frames.CheckAlertReady(fs))
	// Hour 1: TP, FP, FN, TN, TN known (5 of 6). Hour 2: TP, TN known (2 of 3; the error record has no label).
	closeTo(t, "accuracy h1", got[`metric=accuracy, model=fraud`][1], 3.0/5)
	closeTo(t, "accuracy h2", got[`metric=accuracy, model=fraud`][2], 1)
	closeTo(t, "precision h1", got[`metric=precision, model=fraud`][1], 0.5)
	closeTo(t, "recall h1", got[`metric=recall, model=fraud`][1], 0.5)
	closeTo(t, "f1 h1", got[`metric=f1, model=fraud`][1], 0.5)
	closeTo(t, "coverage h1", got[`metric=labelCoverage, model=fraud`][1], 5.0/6)
	closeTo(t, "coverage h2", got[`metric=labelCoverage, model=fraud`][2], 2.0/3)
	closeTo(t, "delay h1 (median of 1800, 600, 3600, 60 s)", got[`metric=labelDelay, model=fraud`][1], 1200)
	closeTo(t, "no window before the data", got[`metric=accuracy, model=fraud`][0], math.NaN())
	require.Contains(t, notices(fs), "fraud 7 of 9")

	// The same records once every label has arrived: the sixth record (a FN) counts.
	h = perfHandler(l, now.Add(24*time.Hour))
	got, _, err = perfRun(h, map[string]any{"model": "fraud", "window": "1h", "metrics": []string{"accuracy"}})
	require.NoError(t, err)
	closeTo(t, "accuracy h1, all labels", got[`metric=accuracy, model=fraud`][1], 3.0/6)

	// Per class and macro; score metrics with the score of the predicted class.
	h = perfHandler(l, now)
	got, _, err = perfRun(h, map[string]any{"model": "fraud", "window": "1h", "average": "none", "positiveClass": "fraud", "scoreOf": "prediction",
		"metrics": []string{"precision", "roc_auc", "log_loss", "brier", "ece"}})
	require.NoError(t, err)
	closeTo(t, "precision legit h1", got[`class=legit, metric=precision, model=fraud`][1], 2.0/3)
	closeTo(t, "precision fraud h1", got[`class=fraud, metric=precision, model=fraud`][1], 0.5)
	// Probabilities of fraud in hour 1: 0.9, 0.6, 0.2, 0.05, 0.3; truth fraud, legit, fraud, legit, legit.
	p := []float64{0.9, 0.6, 0.2, 0.05, 0.3}
	pos := []bool{true, false, true, false, false}
	auc, _ := stats.ROCAUCCheck(p, pos, nil)
	closeTo(t, "roc_auc h1", got[`metric=roc_auc, model=fraud`][1], auc)
	closeTo(t, "roc_auc h1 by hand (4 of 6 pairs ordered)", auc, 4.0/6)
	closeTo(t, "log_loss h1", got[`metric=log_loss, model=fraud`][1], stats.LogLoss(p, pos, stats.LogLossEps))
	closeTo(t, "brier h1", got[`metric=brier, model=fraud`][1], stats.Brier(p, pos))
	// Confidence ECE: scores 0.9, 0.6, 0.8, 0.95, 0.7; right 1, 0, 0, 1, 1.
	closeTo(t, "ece h1", got[`metric=ece, model=fraud`][1], stats.ECE([]float64{0.9, 0.6, 0.8, 0.95, 0.7}, []float64{1, 0, 0, 1, 1}))

	// A three-class model: macro precision over the classes present.
	got, _, err = perfRun(h, map[string]any{"model": "churn", "window": "1h", "metrics": []string{"precision", "accuracy"}})
	require.NoError(t, err)
	closeTo(t, "churn macro precision", got[`metric=precision, model=churn`][1], (1.0+0+0)/3)
	closeTo(t, "churn accuracy", got[`metric=accuracy, model=churn`][1], 1.0/3)
}

// TestPerformanceRegression: regression metrics on the labels known at query time.
func TestPerformanceRegression(t *testing.T) {
	l, now := perfFixture()
	got, fs, err := perfRun(perfHandler(l, now), map[string]any{"model": "price", "output": "latest",
		"metrics": []string{"mae", "rmse", "mape", "r2", "bias"}})
	require.NoError(t, err)
	require.NoError(t, frames.CheckAlertReady(fs))
	y, yhat := []float64{110, 190, 380}, []float64{100, 200, 400}
	closeTo(t, "mae", got[`metric=mae, model=price`][0], stats.MAE(y, yhat))
	closeTo(t, "mae by hand", stats.MAE(y, yhat), 40.0/3)
	closeTo(t, "rmse", got[`metric=rmse, model=price`][0], stats.RMSE(y, yhat))
	closeTo(t, "mape", got[`metric=mape, model=price`][0], stats.MAPE(y, yhat))
	closeTo(t, "r2", got[`metric=r2, model=price`][0], stats.R2(y, yhat))
	closeTo(t, "bias", got[`metric=bias, model=price`][0], 20.0/3)
	// Default metric of a regressor: rmse.
	got, _, err = perfRun(perfHandler(l, now), map[string]any{"model": "price", "output": "latest"})
	require.NoError(t, err)
	require.Contains(t, got, `metric=rmse, model=price`)
}

// TestPerformanceEstimatedFixture: CBPE beside the realised values; the calibration is the
// isotonic fit of the reference.
func TestPerformanceEstimatedFixture(t *testing.T) {
	l, now := perfFixture()
	got, fs, err := perfRun(perfHandler(l, now), map[string]any{"model": "fraud", "window": "1h", "estimated": true,
		"positiveClass": "fraud", "scoreOf": "prediction", "metrics": []string{"accuracy", "roc_auc"}})
	require.NoError(t, err)
	require.Contains(t, got, `estimate=cbpe, metric=accuracy, model=fraud`)
	require.Contains(t, got, `metric=accuracy, model=fraud`)
	require.Contains(t, notices(fs), "CBPE calibrated on the reference dataset of model fraud")
	// Reference probabilities of fraud: 0.9, 0.6, 0.2, 0.1, 0.7, 0.4 with truth 1, 0, 0, 0, 1, 1.
	iso, err := stats.FitIsotonicCheck([]float64{0.9, 0.6, 0.2, 0.1, 0.7, 0.4}, []float64{1, 0, 0, 0, 1, 1}, nil)
	require.NoError(t, err)
	// Hour 1: every record with a score and a prediction, labelled or not.
	probs := []float64{0.9, 0.6, 0.2, 0.05, 0.3, 0.3}
	predPos := []bool{true, true, false, false, false, false}
	cal := make([]float64, len(probs))
	for i, p := range probs {
		cal[i] = iso.Predict(p)
	}
	closeTo(t, "estimated accuracy h1", got[`estimate=cbpe, metric=accuracy, model=fraud`][1], stats.ExpectedConfusionOf(cal, predPos).Accuracy())
	eauc, _ := stats.EstimatedROCAUCCheck(cal, nil)
	closeTo(t, "estimated roc_auc h1", got[`estimate=cbpe, metric=roc_auc, model=fraud`][1], eauc)
}

// TestPerformanceTable: one row per series with the records scored.
func TestPerformanceTable(t *testing.T) {
	l, now := perfFixture()
	h := perfHandler(l, now)
	r := run(h, map[string]any{"queryType": "performance", "model": "fraud", "version": "*", "output": "table",
		"metrics": []string{"accuracy"}, "estimated": true, "positiveClass": "fraud", "scoreOf": "prediction"}, perfT0, perfT0.Add(time.Hour), time.Hour)
	require.NoError(t, r.Error)
	require.Len(t, r.Frames, 1)
	f := r.Frames[0]
	require.Equal(t, data.FrameTypeTable, f.Meta.Type)
	var names []string
	for _, fld := range f.Fields {
		names = append(names, fld.Name)
	}
	require.Equal(t, []string{"model", "version", "metric", "class", "estimate", "value", "scored"}, names)
	require.Equal(t, 2, f.Rows())
	require.Equal(t, "realised", f.Fields[4].At(0))
	require.Equal(t, "cbpe", f.Fields[4].At(1))
	require.Equal(t, 5.0, f.Fields[6].At(0)) // 5 labelled records with a prediction
	require.Equal(t, 6.0, f.Fields[6].At(1)) // 6 records with a score
}

// TestPerformanceErrors: each mistake gives that query a clear error.
func TestPerformanceErrors(t *testing.T) {
	l, now := perfFixture()
	h := perfHandler(l, now)
	for _, c := range []struct {
		q    map[string]any
		want string
	}{
		{map[string]any{"metrics": []string{"acc"}}, `unknown performance metric "acc"`},
		{map[string]any{"metrics": []string{"f1"}, "average": "micro"}, `unknown average "micro"`},
		{map[string]any{"metrics": []string{"f1"}, "average": "binary"}, `average "binary" needs positiveClass`},
		{map[string]any{"metrics": []string{"roc_auc"}}, `roc_auc needs positiveClass`},
		{map[string]any{"estimated": true}, `estimated (CBPE) needs positiveClass`},
		{map[string]any{"estimated": true, "positiveClass": "x", "metrics": []string{"mae"}}, `estimated (CBPE) estimates`},
		{map[string]any{"scoreOf": "max"}, `unknown scoreOf "max"`},
		{map[string]any{"model": "price", "metrics": []string{"accuracy"}}, `model price is a regressor`},
		{map[string]any{"model": "fraud", "metrics": []string{"mae"}}, `model fraud is a classifier`},
		{map[string]any{"model": "fraud", "metrics": []string{"roc_auc"}, "positiveClass": "frod"}, `positiveClass "frod" is not a class of model fraud`},
		{map[string]any{"model": "churn", "metrics": []string{"roc_auc"}, "positiveClass": "churn", "scoreOf": "prediction"}, `only a binary classifier's score gives`},
		{map[string]any{"model": "fraud", "metrics": []string{"accuracy"}, "reference": map[string]any{"kind": "window", "from": "now-2d", "to": "now-1d"}}, `reference dataset only`},
	} {
		_, _, err := perfRun(h, c.q)
		require.Error(t, err, "%v", c.q)
		require.Contains(t, err.Error(), c.want, "%v", c.q)
	}
	// A named model keeps the metrics that apply; the others (and an estimate that does not apply)
	// are left out with a notice.
	got, fs, err := perfRun(h, map[string]any{"model": "churn", "metrics": []string{"accuracy", "r2"}, "positiveClass": "churn", "estimated": true})
	require.NoError(t, err)
	require.Contains(t, got, `metric=accuracy, model=churn`)
	require.Len(t, got, 1)
	require.Contains(t, notices(fs), "model churn has 3 classes (churn, downgrade, stay): estimated (CBPE) applies to binary classifiers")
	require.Contains(t, notices(fs), "model churn is a classifier: r2 applies to regressors")
	// Over every model the metrics that do not apply are left out with a notice.
	got, fs, err = perfRun(h, map[string]any{"metrics": []string{"accuracy", "mae"}, "window": "1h"})
	require.NoError(t, err)
	require.Contains(t, got, `metric=accuracy, model=fraud`)
	require.Contains(t, got, `metric=mae, model=price`)
	require.NotContains(t, got, `metric=mae, model=fraud`)
	require.Contains(t, notices(fs), "model price is a regressor (numeric predictions): accuracy applies to classifiers")
	// Too many classes for a confusion matrix.
	many := &perfLog{models: []source.Model{perfMulti}, recs: map[string][]perfRec{}}
	for i := 0; i <= limits.MaxClasses; i++ {
		many.recs["churn"] = append(many.recs["churn"], perfRec{ts: perfT0.Add(time.Duration(i+1) * time.Second), pred: fmt.Sprint("c", i), label: "c0"})
	}
	_, _, err = perfRun(perfHandler(many, now), map[string]any{"model": "churn"})
	require.ErrorContains(t, err, "classes in these records; performance queries take at most 1000")
	// Prometheus alone has no labels.
	hm := New(Deps{Metrics: &fakeMetrics{}})
	r := run(hm, map[string]any{"queryType": "performance"}, perfT0, perfT0.Add(time.Hour), time.Hour)
	require.Error(t, r.Error)
	require.Contains(t, r.Error.Error(), "performance queries need prediction records")
}

// TestPerformanceDemoFleet: every metric kind answers on the demo fleet, with estimates for the
// binary fraud detector per version.
func TestPerformanceDemoFleet(t *testing.T) {
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), Now: func() time.Time { return time.Date(2026, 3, 11, 0, 0, 0, 0, time.UTC) }})
	to := time.Date(2026, 3, 10, 5, 0, 0, 0, time.UTC)
	r := run(h, map[string]any{"queryType": "performance", "model": "fraud-detector", "version": "*", "window": "1h", "estimated": true,
		"positiveClass": "fraud", "scoreOf": "prediction", "metrics": []string{"accuracy", "f1", "roc_auc", "labelCoverage"}},
		to.Add(-2*time.Hour), to, 30*time.Minute)
	requireOK(t, r)
	got := byLabels(t, r.Frames)
	for _, v := range []string{"v1", "v2"} {
		acc := got[`metric=accuracy, model=fraud-detector, version=`+v]
		est := got[`estimate=cbpe, metric=accuracy, model=fraud-detector, version=`+v]
		require.NotEmpty(t, acc, v)
		require.NotEmpty(t, est, v)
		for i := range acc {
			require.InDelta(t, acc[i], est[i], 0.03, "%s point %d: realised %v, estimated %v", v, i, acc[i], est[i])
		}
	}
	require.False(t, strings.Contains(notices(r.Frames), "no CBPE estimate"), notices(r.Frames))
}

// TestPerformanceSeesFraudDegradation: the demo fraud detector's accuracy degrades while its known
// incident is on (demo.FraudDegraded), in both versions, and CBPE — which sees the scores only —
// tracks the realised accuracy before the incident and not during it. Each point is a 2-hour
// window evaluated when every label has arrived.
func TestPerformanceSeesFraudDegradation(t *testing.T) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), Now: func() time.Time { return day.Add(72 * time.Hour) }})
	q := map[string]any{"queryType": "performance", "model": "fraud-detector", "version": "*", "output": "latest", "estimated": true,
		"positiveClass": "fraud", "scoreOf": "prediction", "metrics": []string{"accuracy"}}
	for _, hour := range []int{2, 4, 6, 10, 14, 20, 23} {
		to := day.Add(time.Duration(hour) * time.Hour)
		require.Equal(t, hour > 6, demo.FraudDegraded(to.Add(-time.Minute)) && demo.FraudDegraded(to.Add(-2*time.Hour)))
		r := run(h, q, to.Add(-2*time.Hour), to, time.Minute)
		requireOK(t, r)
		got := byLabels(t, r.Frames)
		for _, v := range []string{"v1", "v2"} {
			acc := got[`metric=accuracy, model=fraud-detector, version=`+v][0]
			est := got[`estimate=cbpe, metric=accuracy, model=fraud-detector, version=`+v][0]
			if hour <= 6 {
				require.Greater(t, acc, 0.92, "%02d:00 %s: realised accuracy before the incident", hour, v)
				require.InDelta(t, acc, est, 0.02, "%02d:00 %s: CBPE tracks the realised accuracy before the incident", hour, v)
			} else {
				require.Less(t, acc, 0.83, "%02d:00 %s: realised accuracy during the incident", hour, v)
				require.Greater(t, est-acc, 0.05, "%02d:00 %s: CBPE cannot see the new fraud pattern", hour, v)
			}
		}
	}
}

// BenchmarkPerformanceDemo: one day of the fraud detector (about 345,000 records) per version,
// 1-hour windows every 5 minutes, realised accuracy, f1 and ROC AUC with their CBPE estimates.
func BenchmarkPerformanceDemo(b *testing.B) {
	day := time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC)
	h := New(Deps{Demo: demo.NewFleet(demo.DefaultSeed), Now: func() time.Time { return day.Add(72 * time.Hour) }})
	q := map[string]any{"queryType": "performance", "model": "fraud-detector", "version": "*", "window": "1h", "estimated": true,
		"positiveClass": "fraud", "scoreOf": "prediction", "metrics": []string{"accuracy", "f1", "roc_auc"}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := run(h, q, day, day.Add(24*time.Hour), 5*time.Minute)
		if r.Error != nil {
			b.Fatal(r.Error)
		}
	}
}
