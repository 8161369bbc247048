package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/refstats"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/stats"
)

// perfUnits are the Grafana units of the performance metrics (shares as percentunit; errors in
// the prediction's own unit, shown without one).
var perfUnits = map[string]string{
	PerfAccuracy: "percentunit", PerfPrecision: "percentunit", PerfRecall: "percentunit", PerfF1: "percentunit",
	PerfECE: "percentunit", PerfMAPE: "percentunit", PerfLabelCoverage: "percentunit", PerfLabelDelay: "s",
}

// perfSeries is one series of a performance answer.
type perfSeries struct {
	metric string
	// class is the class of a per-class value (average "none"), else "".
	class    string
	classIdx int
	estimate bool
	vals     []float64
	// scored is the number of records behind the last value (the table's "scored" column).
	scored float64
}

// classSet is the classes of a classifier's batch: the union of its prediction and label values,
// sorted by name (as scikit-learn sorts labels), with the dictionary codes of each column mapped
// to class indexes.
type classSet struct {
	names       []string
	pred, label []int
	// pos is the index of the query's positive class, -1 when it is not a class of the batch.
	pos int
}

func newClassSet(b *source.Batch, positive string) classSet {
	set := map[string]bool{}
	for _, c := range []*source.Column{b.Prediction, b.Label} {
		if c != nil && c.Kind == source.Categorical {
			for _, v := range c.Dict {
				set[v] = true
			}
		}
	}
	cs := classSet{pos: -1}
	for v := range set {
		cs.names = append(cs.names, v)
	}
	sort.Strings(cs.names)
	index := func(c *source.Column) []int {
		if c == nil || c.Kind != source.Categorical {
			return nil
		}
		out := make([]int, len(c.Dict))
		for i, v := range c.Dict {
			out[i] = sort.SearchStrings(cs.names, v)
		}
		return out
	}
	cs.pred, cs.label = index(b.Prediction), index(b.Label)
	if i := sort.SearchStrings(cs.names, positive); positive != "" && i < len(cs.names) && cs.names[i] == positive {
		cs.pos = i
	}
	return cs
}

// code returns the class index of record k of a categorical column, -1 when null.
func (cs *classSet) code(c *source.Column, m []int, k int32) int {
	if c == nil || int(k) >= len(c.Cat) {
		return -1
	}
	if v := c.Cat[k]; v >= 0 && int(v) < len(m) {
		return m[v]
	}
	return -1
}

// perfWindow is what one window's records give: the counts and the inputs of each kernel.
type perfWindow struct {
	records, labelled int
	cm                *stats.Confusion
	// Binary score metrics: probability of the positive class and the truth.
	ppos []float64
	pos  []bool
	// ECE: the score and its outcome (the truth, or whether the prediction was right).
	eceX, eceY []float64
	// Regression.
	ytrue, ypred []float64
	delays       []float64
	// CBPE: calibrated probabilities and whether each record was predicted positive.
	est    []float64
	estPos []bool
	ecm    *stats.Confusion
}

// perfEval computes the windows of one model's group.
type perfEval struct {
	q         *Query
	b         *source.Batch
	cs        classSet
	classifer bool
	binary    bool
	now       int64
	cal       *stats.Isotonic
	// calp holds, per record of the batch, its calibrated probability of the positive class (NaN
	// without a score or a prediction), computed once per group: windows overlap.
	calp []float64
	need map[string]bool
	w    perfWindow
}

// labelKnown reports whether record k has a label that had arrived at e.now.
func (e *perfEval) labelKnown(k int32) bool {
	b := e.b
	if b.Label == nil {
		return false
	}
	if e.classifer {
		if e.cs.code(b.Label, e.cs.label, k) < 0 {
			return false
		}
	} else if int(k) >= len(b.Label.Num) || math.IsNaN(b.Label.Num[k]) {
		return false
	}
	if int(k) < len(b.LabelTS) {
		if lt := b.LabelTS[k]; lt != source.NoTime && lt > e.now {
			return false
		}
	}
	return true
}

// positiveProb is the probability of the positive class of record k from its score and prediction
// (NaN when it has none): the score itself when the score is that probability, else the score
// when the positive class was predicted and 1 − score when the other class was.
func (e *perfEval) positiveProb(k int32, pc int) float64 {
	s := at(e.b.Score, k, nanValue)
	if math.IsNaN(s) {
		return s
	}
	if scoreOf(e.q) == ScoreOfPositiveClass {
		return s
	}
	switch {
	case pc < 0:
		return math.NaN()
	case pc == e.cs.pos:
		return s
	}
	return 1 - s
}

// window fills e.w from the records idx.
func (e *perfEval) window(ctx context.Context, idx []int32) {
	w := &e.w
	w.records, w.labelled = len(idx), 0
	if w.cm != nil {
		w.cm.Reset()
	}
	w.ppos, w.pos, w.eceX, w.eceY = w.ppos[:0], w.pos[:0], w.eceX[:0], w.eceY[:0]
	w.ytrue, w.ypred, w.delays, w.est, w.estPos = w.ytrue[:0], w.ypred[:0], w.delays[:0], w.est[:0], w.estPos[:0]
	b := e.b
	for _, k := range idx {
		known := e.labelKnown(k)
		var pc int
		if e.classifer {
			pc = e.cs.code(b.Prediction, e.cs.pred, k)
			if e.cal != nil && pc >= 0 {
				if p := e.calp[k]; !math.IsNaN(p) {
					w.est = append(w.est, p)
					w.estPos = append(w.estPos, pc == e.cs.pos)
				}
			}
		}
		if !known {
			continue
		}
		w.labelled++
		if e.need[PerfLabelDelay] && int(k) < len(b.LabelTS) && b.LabelTS[k] != source.NoTime {
			w.delays = append(w.delays, float64(b.LabelTS[k]-b.TS[k])/1e9)
		}
		if !e.classifer {
			if p := at(b.Prediction.Num, k, nanValue); !math.IsNaN(p) {
				w.ytrue = append(w.ytrue, b.Label.Num[k])
				w.ypred = append(w.ypred, p)
			}
			continue
		}
		tc := e.cs.code(b.Label, e.cs.label, k)
		if pc >= 0 {
			w.cm.Add(tc, pc)
		}
		s := at(b.Score, k, nanValue)
		if math.IsNaN(s) {
			continue
		}
		if e.need[PerfROCAUC] || e.need[PerfLogLoss] || e.need[PerfBrier] || (e.need[PerfECE] && scoreOf(e.q) == ScoreOfPositiveClass) {
			if p := e.positiveProb(k, pc); !math.IsNaN(p) {
				w.ppos = append(w.ppos, p)
				w.pos = append(w.pos, tc == e.cs.pos)
			}
		}
		if e.need[PerfECE] && scoreOf(e.q) == ScoreOfPrediction && pc >= 0 {
			right := 0.0
			if pc == tc {
				right = 1
			}
			w.eceX, w.eceY = append(w.eceX, s), append(w.eceY, right)
		}
	}
	if e.need[PerfECE] && scoreOf(e.q) == ScoreOfPositiveClass {
		for i, p := range w.ppos {
			y := 0.0
			if w.pos[i] {
				y = 1
			}
			w.eceX, w.eceY = append(w.eceX, p), append(w.eceY, y)
		}
	}
	if e.cal != nil && w.ecm != nil {
		w.ecm.Reset()
		x := stats.ExpectedConfusionOf(w.est, w.estPos)
		neg := 1 - e.cs.pos
		k := w.ecm.K
		w.ecm.Counts[e.cs.pos*k+e.cs.pos] = x.TP
		w.ecm.Counts[neg*k+e.cs.pos] = x.FP
		w.ecm.Counts[e.cs.pos*k+neg] = x.FN
		w.ecm.Counts[neg*k+neg] = x.TN
	}
}

// value is a series' value on the current window and the number of records behind it.
func (e *perfEval) value(ctx context.Context, s *perfSeries) (float64, float64) {
	w := &e.w
	nan := math.NaN()
	cm, n := w.cm, 0.0
	if s.estimate {
		cm, n = w.ecm, float64(len(w.est))
	} else if cm != nil {
		n = cm.Total()
	}
	switch s.metric {
	case PerfLabelCoverage:
		if w.records == 0 {
			return nan, 0
		}
		return float64(w.labelled) / float64(w.records), float64(w.records)
	case PerfLabelDelay:
		if len(w.delays) == 0 {
			return nan, 0
		}
		return stats.Percentiles(w.delays, []float64{50}, nil)[0], float64(len(w.delays))
	case PerfAccuracy:
		if n == 0 {
			return nan, 0
		}
		return cm.Accuracy(), n
	case PerfPrecision, PerfRecall, PerfF1:
		if n == 0 {
			return nan, 0
		}
		var p, r, f float64
		switch {
		case s.classIdx >= 0:
			p, r, f, _ = cm.ClassPRF(s.classIdx)
		case average(e.q) == AverageBinary:
			p, r, f, _ = cm.ClassPRF(e.cs.pos)
		case average(e.q) == AverageWeighted:
			p, r, f = cm.AveragePRF(stats.Weighted)
		default:
			p, r, f = cm.AveragePRF(stats.Macro)
		}
		return map[string]float64{PerfPrecision: p, PerfRecall: r, PerfF1: f}[s.metric], n
	case PerfROCAUC:
		if s.estimate {
			v, _ := stats.EstimatedROCAUCCheck(w.est, ctx.Err) // cancelled: windows returns ctx's error next
			return v, n
		}
		v, _ := stats.ROCAUCCheck(w.ppos, w.pos, ctx.Err)
		return v, float64(len(w.ppos))
	case PerfLogLoss:
		return stats.LogLoss(w.ppos, w.pos, stats.LogLossEps), float64(len(w.ppos))
	case PerfBrier:
		return stats.Brier(w.ppos, w.pos), float64(len(w.ppos))
	case PerfECE:
		return stats.ECE(w.eceX, w.eceY), float64(len(w.eceX))
	case PerfMAE:
		return stats.MAE(w.ytrue, w.ypred), float64(len(w.ytrue))
	case PerfRMSE:
		return stats.RMSE(w.ytrue, w.ypred), float64(len(w.ytrue))
	case PerfMAPE:
		return stats.MAPE(w.ytrue, w.ypred), float64(len(w.ytrue))
	case PerfR2:
		return stats.R2(w.ytrue, w.ypred), float64(len(w.ytrue))
	case PerfBias:
		return stats.Bias(w.ytrue, w.ypred), float64(len(w.ytrue))
	}
	return nan, 0
}

// performance answers `performance` (DESIGN §4, §5 Model quality): per window, model and version,
// the quality of the predictions against the labels known when the query runs (a label whose
// label_ts is later is not known yet), label coverage and delay, and with `estimated` the CBPE
// estimates of a binary classifier (label estimate="cbpe"). Label `metric` (+ `class` for
// average "none"). How many records were scored is said by a notice (time series and latest) and
// by the table's "scored" column.
func (h *Handler) performance(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	single := q.Output == OutputLatest || q.Output == OutputTable
	g, err := newGrid(r.dq, q.Window, single)
	if err != nil {
		return nil, err
	}
	src, err := h.cat.Resolve(ctx, q.Source, q.Model)
	if err != nil {
		return nil, err
	}
	if src.Log == nil {
		return nil, userError("performance queries need prediction records with labels (prediction log, sql or the demo fleet), not %q", src.Name)
	}
	// Outputs and label times only: a source may leave the features out.
	fetchedAll, notices, err := h.gridRecordsOf(ctx, src, q, g, []string{FeaturePrediction, "label"})
	if err != nil {
		return nil, err
	}
	now := h.now().UTC()
	// Metrics (or the estimate) that do not apply to a model are left out with a notice; a named
	// model to which none of the metrics asked applies is an error.
	var skipped []string
	var reasons []string
	inapplicable := func(format string, args ...any) {
		reasons = append(reasons, fmt.Sprintf(format, args...))
	}
	var out seriesSet
	var table perfTable
	var scoredText []string
	empty := 0
	for _, f := range fetchedAll {
		m, b := &f.model, f.batch
		classifier := m.Prediction.Type == source.Categorical || (m.Prediction.Type == "" && b.Prediction != nil && b.Prediction.Kind == source.Categorical)
		metrics := dedupe(q.Metrics)
		if len(metrics) == 0 {
			metrics = []string{PerfAccuracy}
			if !classifier {
				metrics = []string{PerfRMSE}
			}
		}
		if b.Prediction == nil || (classifier && b.Prediction.Kind != source.Categorical) || (!classifier && b.Prediction.Kind == source.Categorical) {
			b.Prediction = source.NewColumn(map[bool]source.Kind{true: source.Categorical, false: source.Numeric}[classifier], 0)
		}
		e := &perfEval{q: q, b: b, classifer: classifier, now: now.UnixNano(), need: map[string]bool{}}
		if classifier {
			e.cs = newClassSet(b, q.PositiveClass)
			e.binary = len(e.cs.names) <= 2
			if n := len(e.cs.names); n > limits.MaxClasses {
				why := fmt.Sprintf("model %s has %d classes in these records; performance queries take at most %d", m.Name, n, limits.MaxClasses)
				if !allModels(q.Model) {
					return nil, userError("%s", why)
				}
				skipped = append(skipped, why)
				continue
			}
		}
		reasons = reasons[:0]
		kept := applicableMetrics(q, m.Name, classifier, e, metrics, inapplicable)
		if len(kept) == 0 {
			if !allModels(q.Model) {
				return nil, userError("%s", strings.Join(reasons, "; "))
			}
			skipped = append(skipped, reasons...)
			continue
		}
		estimate := q.Estimated && classifier && slices.ContainsFunc(kept, func(m string) bool { return slices.Contains(EstimatedMetrics, m) })
		if q.Estimated && !classifier {
			inapplicable("model %s is a regressor: estimated (CBPE) applies to binary classifiers", m.Name)
		}
		if estimate && e.cs.pos < 0 {
			estimate = false
			inapplicable("positiveClass %s is not a class of model %s (classes: %s): no CBPE estimate", quoteName(q.PositiveClass), m.Name, strings.Join(e.cs.names, ", "))
		}
		if estimate && !e.binary {
			estimate = false
			inapplicable("model %s has %d classes (%s): estimated (CBPE) applies to binary classifiers", m.Name, len(e.cs.names), strings.Join(e.cs.names, ", "))
		}
		skipped = append(skipped, reasons...)
		reasons = reasons[:0]
		for _, x := range kept {
			e.need[x] = true
		}
		if classifier {
			e.w.cm = stats.NewConfusion(len(e.cs.names))
		}
		for _, grp := range groups(b, q.Version) {
			grp := grp
			e.cal = nil
			if estimate {
				cal, cn, why, err := h.calibration(ctx, src, m.Name, grp.version, e)
				if err != nil {
					return nil, err
				}
				if why != "" {
					skipped = append(skipped, why)
				}
				notices = append(notices, cn...)
				e.cal = cal
				if cal != nil {
					e.w.ecm = stats.NewConfusion(2)
					if len(e.calp) < b.Len() {
						e.calp = make([]float64, b.Len())
					}
					for _, k := range grp.idx {
						e.calp[k] = math.NaN()
						if pc := e.cs.code(b.Prediction, e.cs.pred, k); pc >= 0 {
							e.calp[k] = cal.Predict(e.positiveProb(k, pc))
						}
					}
				}
			}
			series := planSeries(q, kept, e)
			for i := range series {
				series[i].vals = make([]float64, len(g.times))
			}
			gaps := 0
			err := g.windows(ctx, b.TS, grp.idx, func(i int, _ time.Time, lo, hi int) {
				e.window(ctx, grp.idx[lo:hi])
				for si := range series {
					s := &series[si]
					s.vals[i], s.scored = e.value(ctx, s)
				}
				if e.w.labelled == 0 {
					gaps++
				}
			})
			if err != nil {
				return nil, err
			}
			empty += gaps
			// Records in the range and those with a known label.
			known := 0
			for _, k := range grp.idx {
				if e.labelKnown(k) {
					known++
				}
			}
			scoredText = append(scoredText, fmt.Sprintf("%s%s %d of %d", m.Name, versionSuffix(grp.version), known, len(grp.idx)))
			for si := range series {
				s := &series[si]
				l := labels(m.Name, q, &grp)
				l["metric"] = s.metric
				if s.class != "" {
					l["class"] = s.class
				}
				if s.estimate {
					l["estimate"] = EstimateCBPE
				}
				out.add(l, "value", perfUnits[s.metric], g.times, s.vals)
				table.add(l, s)
			}
		}
	}
	if len(scoredText) > 0 {
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("records with a label known when the query ran (scored) of the records in the range: %s",
			strings.Join(scoredText, "; "))))
	}
	for _, s := range dedupe(skipped) {
		notices = append(notices, frames.InfoNotice(s))
	}
	if empty > 0 {
		notices = append(notices, frames.InfoNotice(fmt.Sprintf("%d window(s) had no records with a known label: no value there", empty)))
	}
	info := frames.Info{Source: src.Name, Notices: notices}
	if q.Output == OutputTable {
		return data.Frames{table.frame(q, info)}, nil
	}
	return out.frames(g, info), nil
}

// applicableMetrics returns the metrics that apply to a model, reporting the others through
// inapplicable.
func applicableMetrics(q *Query, model string, classifier bool, e *perfEval, metrics []string, inapplicable func(string, ...any)) []string {
	var kept []string
	for _, x := range metrics {
		switch {
		case classifier && slices.Contains(RegressionMetrics, x):
			inapplicable("model %s is a classifier: %s applies to regressors (numeric predictions)", model, x)
		case !classifier && slices.Contains(ClassificationMetrics, x):
			inapplicable("model %s is a regressor (numeric predictions): %s applies to classifiers", model, x)
		case classifier && q.PositiveClass != "" && e.cs.pos < 0 && needsPositive(q, x):
			inapplicable("positiveClass %s is not a class of model %s (classes: %s): no %s", quoteName(q.PositiveClass), model, strings.Join(e.cs.names, ", "), x)
		case classifier && !e.binary && scoreOf(q) == ScoreOfPrediction && x != PerfECE && slices.Contains(ScoreMetrics, x):
			inapplicable("model %s has %d classes and its score is the probability of the predicted class: %s needs the probability of %s, which only a binary classifier's score gives",
				model, len(e.cs.names), x, quoteName(q.PositiveClass))
		default:
			kept = append(kept, x)
		}
	}
	return kept
}

// needsPositive reports whether a metric of the query needs the positive class.
func needsPositive(q *Query, m string) bool {
	switch {
	case m == PerfECE:
		return scoreOf(q) == ScoreOfPositiveClass
	case slices.Contains(ScoreMetrics, m):
		return true
	case m == PerfPrecision || m == PerfRecall || m == PerfF1:
		return average(q) == AverageBinary
	}
	return false
}

// planSeries lists the series of one group, in the order of the metrics asked.
func planSeries(q *Query, metrics []string, e *perfEval) []perfSeries {
	var out []perfSeries
	for _, m := range metrics {
		perClass := (m == PerfPrecision || m == PerfRecall || m == PerfF1) && average(q) == AverageNone
		if perClass {
			for i, c := range e.cs.names {
				out = append(out, perfSeries{metric: m, class: c, classIdx: i})
			}
		} else {
			out = append(out, perfSeries{metric: m, classIdx: -1})
		}
		if e.cal == nil || !slices.Contains(EstimatedMetrics, m) {
			continue
		}
		if perClass {
			for i, c := range e.cs.names {
				out = append(out, perfSeries{metric: m, class: c, classIdx: i, estimate: true})
			}
		} else {
			out = append(out, perfSeries{metric: m, classIdx: -1, estimate: true})
		}
	}
	return out
}

// minCalibrationRows is the smallest labelled reference CBPE calibrates on.
const minCalibrationRows = 2

// calibration fits the CBPE calibration of a model's version group: an isotonic regression
// (NannyML's calibrator, sklearn.isotonic.IsotonicRegression(out_of_bounds="clip")) of the truth
// on the probability of the positive class, over the rows of the reference sample that have a
// label, a score and a prediction. The reference follows the version policy of drift. why says
// why there is no estimate (no usable reference); err is a failure of the query.
func (h *Handler) calibration(ctx context.Context, src Resolved, model, version string, e *perfEval) (*stats.Isotonic, []data.Notice, string, error) {
	noEstimate := fmt.Sprintf("model %s%s: no CBPE estimate: ", model, versionSuffix(version))
	ref, notices, err := h.sampleFor(ctx, src, model, version, func(model, version string, rows int) string {
		return fmt.Sprintf("CBPE calibrated on the reference dataset of model %s%s (%d rows)", model, versionSuffix(version), rows)
	})
	if err != nil {
		var bad *BadQueryError
		if errors.As(err, &bad) {
			return nil, nil, noEstimate + err.Error(), nil
		}
		return nil, nil, "", err
	}
	p, ok := ref.(*refstats.Prepared)
	if !ok || p.Batch == nil {
		return nil, nil, noEstimate + "the reference has no records", nil
	}
	rb := p.Batch
	re := &perfEval{q: e.q, b: rb, classifer: true, now: math.MaxInt64}
	re.cs = newClassSet(rb, e.q.PositiveClass)
	if re.cs.pos < 0 {
		return nil, notices, noEstimate + fmt.Sprintf("the reference has no record of class %s", quoteName(e.q.PositiveClass)), nil
	}
	var x, y []float64
	for k := 0; k < rb.Len(); k++ {
		k32 := int32(k) // #nosec G115 -- a batch holds fewer than 2^31 records (limits.MaxReferenceSamples)
		tc := re.cs.code(rb.Label, re.cs.label, k32)
		pc := re.cs.code(rb.Prediction, re.cs.pred, k32)
		if tc < 0 {
			continue
		}
		prob := re.positiveProb(k32, pc)
		if math.IsNaN(prob) {
			continue
		}
		x = append(x, prob)
		v := 0.0
		if tc == re.cs.pos {
			v = 1
		}
		y = append(y, v)
	}
	if len(x) < minCalibrationRows {
		return nil, notices, noEstimate + fmt.Sprintf("the reference has %d rows with a label and a score (at least %d needed)", len(x), minCalibrationRows), nil
	}
	cal, err := stats.FitIsotonicCheck(x, y, ctx.Err)
	if err != nil {
		return nil, nil, "", err
	}
	return cal, notices, "", nil
}

// perfTable collects the rows of the table output: one per series.
type perfTable struct {
	model, version, metric, class, estimate []string
	value, scored                           []float64
}

func (t *perfTable) add(l data.Labels, s *perfSeries) {
	t.model = append(t.model, l["model"])
	t.version = append(t.version, l["version"])
	t.metric = append(t.metric, s.metric)
	t.class = append(t.class, s.class)
	est := "realised"
	if s.estimate {
		est = EstimateCBPE
	}
	t.estimate = append(t.estimate, est)
	v := math.NaN()
	if len(s.vals) > 0 {
		v = s.vals[len(s.vals)-1]
	}
	t.value = append(t.value, v)
	t.scored = append(t.scored, s.scored)
}

func (t *perfTable) frame(q *Query, info frames.Info) *data.Frame {
	fields := []*data.Field{frames.StringField("model", t.model)}
	if q.Version != "" {
		fields = append(fields, frames.StringField("version", t.version))
	}
	fields = append(fields,
		frames.StringField("metric", t.metric),
		frames.StringField("class", t.class),
		frames.StringField("estimate", t.estimate),
		frames.NumberField("value", "", t.value),
		frames.NumberField("scored", "none", t.scored),
	)
	return frames.Table("performance", fields, info)
}
