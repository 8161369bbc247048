package demo

import (
	"time"
)

// The fleet's known events. Every event recurs daily at a fixed UTC time of day, so any time range
// of any day shows the same story, and tests and dashboards can aim at them.

// DriftStart is the UTC time of day at which input drift begins; the drift lasts until midnight
// UTC. Records with a time of day in [DriftStart, 24h) draw the features listed in DriftedFeatures
// from their drifted distributions; every other feature keeps its reference distribution at all
// times. Because the toy models are real functions of their inputs, each model's prediction (and
// score) distribution drifts too while input drift is active:
//
//   - fraud-detector: amount is log-normal with μ=3.6, σ=1.1 (median ≈ 37), drifted μ=4.3 (≈ 2×
//     larger amounts); merchant_category shifts from grocery/restaurants towards electronics and
//     gaming. More transactions are scored as fraud.
//   - churn-classifier: monthly_charges is normal(65, 20) clipped to [18, 150], drifted mean 83 (a
//     price rise); contract shifts towards month-to-month (50% → 72%). More churn is predicted.
//   - price-regressor: sqft is log-normal with median 1,600, drifted median ≈ 2,054 (+28%);
//     neighborhood shifts towards downtown and waterfront. Predicted prices rise.
const DriftStart = 6 * time.Hour

// DriftedFeatures lists, per model, the features whose distribution changes while drift is active.
// (A copy: changing it does not change the fleet.)
var DriftedFeatures = func() map[string][]string {
	out := map[string][]string{}
	for _, m := range specs {
		out[m.name] = append([]string(nil), m.drifted...)
	}
	return out
}()

// DriftActive reports whether input drift is active at t.
func DriftActive(t time.Time) bool { return timeOfDay(t.UnixNano()) >= int64(DriftStart) }

// BaselineErrorRatio is the share of records with status "error" outside error bursts and outages.
const BaselineErrorRatio = 0.005

// Window is a daily recurring period: from Start (a UTC time of day) for Duration, for one model
// and one version of it (Version "" = every version).
type Window struct {
	Model    string
	Version  string
	Start    time.Duration
	Duration time.Duration
	// ErrorRatio is the probability that a record in the window has status "error".
	ErrorRatio float64
}

// Contains reports whether t falls in the window (start inclusive, end exclusive) on its day.
func (w Window) Contains(t time.Time) bool { return w.containsNano(t.UnixNano()) }

func (w Window) containsNano(ns int64) bool {
	d := timeOfDay(ns) - int64(w.Start)
	if d < 0 {
		d += int64(24 * time.Hour)
	}
	return d < int64(w.Duration)
}

// ErrorBursts are the known daily periods of elevated error ratio. The fraud-detector burst hits
// only the v2 canary. (A copy: changing it does not change the fleet.)
var ErrorBursts = append([]Window(nil), bursts...)

// Outages are the known daily periods when a model is not ready (Fleet.Ready is false, the model
// server's ready probe fails) and every request to it fails: its records all have status "error".
// (A copy: changing it does not change the fleet.)
var Outages = append([]Window(nil), outages...)

var bursts = []Window{
	{Model: "fraud-detector", Version: "v2", Start: 9 * time.Hour, Duration: 15 * time.Minute, ErrorRatio: 0.3},
	{Model: "churn-classifier", Start: 16*time.Hour + 30*time.Minute, Duration: 15 * time.Minute, ErrorRatio: 0.25},
	{Model: "price-regressor", Start: 11 * time.Hour, Duration: 20 * time.Minute, ErrorRatio: 0.15},
}

var outages = []Window{
	{Model: "churn-classifier", Start: 3*time.Hour + 20*time.Minute, Duration: 10 * time.Minute, ErrorRatio: 1},
}

// VersionShares is the traffic split between the versions of each model.
var VersionShares = func() map[string]map[string]float64 {
	out := map[string]map[string]float64{}
	for _, m := range specs {
		s := map[string]float64{}
		for i, v := range m.versions {
			s[v] = m.shares[i]
		}
		out[m.name] = s
	}
	return out
}()

// MeanRate is each model's mean traffic in records per second at rate multiplier 1 (the daily
// average of a sinusoid with amplitude DiurnalAmplitude peaking at PeakHour).
var MeanRate = func() map[string]float64 {
	out := map[string]float64{}
	for _, m := range specs {
		out[m.name] = m.baseRate
	}
	return out
}()

// PeakHour is each model's UTC time of day of peak traffic.
var PeakHour = func() map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, m := range specs {
		out[m.name] = m.peak
	}
	return out
}()

// DiurnalAmplitude is the relative amplitude of the daily traffic sinusoid: the rate at hour h is
// MeanRate·(1 + DiurnalAmplitude·cos(2π(h − peak)/24h)), times a per-minute log-normal noise of
// σ = MinuteNoise with mean 1; each second's count is Poisson with that rate.
const (
	DiurnalAmplitude = 0.6
	MinuteNoise      = 0.2
)

// ReferenceSize is the number of rows of every reference (training) sample; ReferenceTime is the
// time stamp of its first row (row i is stamped ReferenceTime + i seconds).
const ReferenceSize = 5000

// ReferenceTime stamps the reference samples.
var ReferenceTime = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

const day = int64(24 * time.Hour)

func timeOfDay(ns int64) int64 {
	d := ns % day
	if d < 0 {
		d += day
	}
	return d
}

// event is a daily window of one model, resolved for fast lookup (version -1 = every version).
type event struct {
	version    int32
	start, dur int64
	ratio      float64
	outage     bool
}

func resolveEvents(m *modelSpec) []event {
	var out []event
	add := func(w Window, outage bool) {
		if w.Model != m.name {
			return
		}
		v := int32(-1)
		if w.Version != "" {
			v = m.versionIndex(w.Version)
		}
		out = append(out, event{version: v, start: int64(w.Start), dur: int64(w.Duration), ratio: w.ErrorRatio, outage: outage})
	}
	for _, o := range outages {
		add(o, true)
	}
	for _, b := range bursts {
		add(b, false)
	}
	return out
}

// errorRatio returns the probability that a record of (m, version) at ns is an error: 1 during an
// outage, else the highest of the baseline and the bursts in force.
func errorRatio(m *modelSpec, version int32, ns int64) float64 {
	p := BaselineErrorRatio
	tod := timeOfDay(ns)
	for i := range m.events {
		e := &m.events[i]
		if e.version >= 0 && e.version != version {
			continue
		}
		d := tod - e.start
		if d < 0 {
			d += day
		}
		if d >= e.dur {
			continue
		}
		if e.outage {
			return 1
		}
		p = max(p, e.ratio)
	}
	return p
}
