package demo

import (
	"math"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// featureSpec describes one input feature of a toy model.
type featureSpec struct {
	name string
	kind source.Kind
	// cats lists the categories of a categorical feature, in code order.
	cats []string
	// impute is what the toy model uses for a missing numeric value (the undrifted mean).
	impute float64
}

// row is one generated record in typed form; the generator fills one row at a time and the
// callers copy it into a Batch, a Record or JSON.
type row struct {
	ts      int64 // Unix nanoseconds
	version int32 // index into modelSpec.versions
	latency float64
	err     bool
	// num holds numeric feature values (NaN = null), cat categorical codes (-1 = null), both
	// indexed by feature position; a feature uses only the slice of its kind.
	num      []float64
	cat      []int32
	predNum  float64 // NaN when absent
	predCat  int32   // -1 when absent
	score    float64 // NaN when absent
	labelNum float64 // NaN when absent
	labelCat int32   // -1 when absent
	// labelTS is when the label arrived (Unix nanoseconds), source.NoTime without a label.
	labelTS int64
	// errP is the error probability of each version in the current second.
	errP []float64
	// r is the record's random stream (kept here so that it does not escape per record).
	r rng
	// corrBreak is whether the correlation break is on for this record (never for the reference).
	corrBreak bool
}

// clone copies a row's values (not its random stream) for buffering.
func (x *row) clone() row {
	c := *x
	c.num = append([]float64(nil), x.num...)
	c.cat = append([]int32(nil), x.cat...)
	c.errP = nil
	return c
}

func newRow(m *modelSpec) *row {
	x := &row{num: make([]float64, len(m.features)), cat: make([]int32, len(m.features)), errP: make([]float64, len(m.versions))}
	x.r.withZiggurat()
	return x
}

// modelSpec is the whole behaviour of one synthetic model.
type modelSpec struct {
	name     string
	id       uint64
	versions []string
	// shareCum is the cumulative traffic share of each version.
	shareCum []float64
	shares   []float64
	features []featureSpec
	predKind source.Kind
	// classes are the categories of a categorical prediction (and label).
	classes []string
	// hasScore is true for classifiers (score = probability of the predicted class).
	hasScore bool
	// baseRate is the mean traffic in records per second at rate multiplier 1; peak is the UTC
	// time of day of the traffic maximum.
	baseRate float64
	peak     time.Duration
	// latencyMedian is the median latency (ms) of the log-normal body, per version; logMedian
	// holds the logarithms.
	latencyMedian []float64
	logMedian     []float64
	// labelShare is the share of successful records that carry a ground-truth label.
	labelShare float64
	drifted    []string
	// events are the model's error bursts and outages.
	events []event
	// sample fills the features of x; drift selects the drifted distributions.
	sample func(r *rng, drift bool, x *row)
	// predict runs the toy model of a version on the features.
	predict func(version int32, num []float64, cat []int32) (predNum float64, predCat int32, score float64)
	// label draws the ground truth for the features.
	label func(r *rng, num []float64, cat []int32) (labelNum float64, labelCat int32)
}

func (m *modelSpec) versionIndex(v string) int32 {
	for i, x := range m.versions {
		if x == v {
			return int32(i)
		}
	}
	return -1
}

func (m *modelSpec) featureIndex(name string) int {
	for i, f := range m.features {
		if f.name == name {
			return i
		}
	}
	return -1
}

func (m *modelSpec) meta() source.Model {
	out := source.Model{
		Name:       m.name,
		Versions:   append([]string(nil), m.versions...),
		Features:   make([]source.Feature, len(m.features)),
		Prediction: source.Output{Type: m.predKind},
	}
	for i, f := range m.features {
		out.Features[i] = source.Feature{Name: f.name, Type: f.kind, Importance: importance(m.name, f.name)}
	}
	return out
}

func sigmoid(z float64) float64 { return 1 / (1 + math.Exp(-z)) }

// roundTo rounds v to the given number of decimals; the result is the double nearest to the
// decimal value, so it prints without binary noise (43.48, not 43.480000000000004).
func roundTo(v float64, decimals int) float64 {
	p := pow10[decimals]
	return math.Round(v*p) / p
}

var pow10 = [...]float64{1, 10, 100, 1000}

// effect returns table[code], or null for a missing or unseen category.
func effect(table []float64, code int32, null float64) float64 {
	if code < 0 || int(code) >= len(table) {
		return null
	}
	return table[code]
}

func num(v, impute float64) float64 {
	if math.IsNaN(v) {
		return impute
	}
	return v
}

// ---------------------------------------------------------------------------------------------
// fraud-detector: binary classifier, two versions.

var (
	fraudMerchants     = []string{"grocery", "restaurants", "fashion", "travel", "electronics", "gaming"}
	fraudMerchantP     = cumulative([]float64{0.30, 0.22, 0.18, 0.12, 0.12, 0.06})
	fraudMerchantDrift = cumulative([]float64{0.16, 0.14, 0.14, 0.12, 0.26, 0.18})
	fraudChannels      = []string{"web", "mobile_app", "pos"}
	fraudChannelP      = cumulative([]float64{0.35, 0.40, 0.25})
	fraudCountries     = []string{"US", "GB", "DE", "FR", "IN", "BR"}
	fraudCountryP      = cumulative([]float64{0.45, 0.15, 0.12, 0.10, 0.10, 0.08})

	// Logit effects per category, per version (v1, v2), and the ground truth.
	fraudMerchantFx = [3][]float64{{0, 0, 0.1, 0.7, 1.0, 1.4}, {0, -0.1, 0.1, 0.8, 1.2, 1.6}, {0, -0.1, 0.15, 0.8, 1.25, 1.7}}
	fraudChannelFx  = [3][]float64{{0.4, 0, -0.6}, {0.5, 0, -0.8}, {0.5, 0, -0.8}}
	fraudCountryFx  = [3][]float64{{0, 0.1, 0, 0, 0.3, 0.5}, {0, 0.1, -0.1, 0, 0.4, 0.6}, {0, 0.1, -0.1, 0, 0.4, 0.6}}
	fraudCountryNul = [3]float64{0.2, 0.3, 0.3}
	fraudCoef       = [3]struct{ b0, amount, dist, txn, age float64 }{
		{-4.6, 1.1, 0.5, 0.3, -0.002},
		{-4.9, 1.25, 0.45, 0.35, -0.0025},
		{-4.7, 1.25, 0.45, 0.35, -0.0025},
	}
)

// fraudLogit is the logit of P(fraud); who is 0 for v1, 1 for v2, 2 for the ground truth.
func fraudLogit(who int, x []float64, c []int32) float64 {
	k := fraudCoef[who]
	amount := math.Max(num(x[0], 60), 0.01)
	z := k.b0 + k.amount*(math.Log(amount)-3.6) + k.dist*(math.Log1p(math.Max(num(x[2], 12), 0))-2.0) +
		k.txn*(num(x[3], 2.5)-2.5) + k.age*(num(x[1], 500)-500)
	z += effect(fraudMerchantFx[who], c[4], 0) + effect(fraudChannelFx[who], c[5], 0) +
		effect(fraudCountryFx[who], c[6], fraudCountryNul[who])
	if who > 0 && c[5] == 0 && amount > 500 {
		z += 0.4 // large web payments, learnt by v2 only
	}
	return z
}

var fraudDetector = &modelSpec{
	name:     "fraud-detector",
	versions: []string{"v1", "v2"},
	shares:   []float64{0.7, 0.3},
	features: []featureSpec{
		{name: "amount", kind: source.Numeric, impute: 60},
		{name: "account_age_days", kind: source.Numeric, impute: 500},
		{name: "distance_km", kind: source.Numeric, impute: 12},
		{name: "txn_count_24h", kind: source.Numeric, impute: 2.5},
		{name: "merchant_category", kind: source.Categorical, cats: fraudMerchants},
		{name: "channel", kind: source.Categorical, cats: fraudChannels},
		{name: "country", kind: source.Categorical, cats: fraudCountries},
	},
	predKind:      source.Categorical,
	classes:       []string{"legit", "fraud"},
	hasScore:      true,
	baseRate:      4,
	peak:          14 * time.Hour,
	latencyMedian: []float64{26, 18},
	labelShare:    0.3,
	drifted:       []string{"amount", "merchant_category"},
	sample: func(r *rng, drift bool, x *row) {
		mu := 3.6
		merchant := fraudMerchantP
		if drift {
			mu += 0.7
			merchant = fraudMerchantDrift
		}
		x.num[0] = math.Max(0.5, roundTo(r.lognormal(mu, 1.1), 2))
		if r.float() < 0.03 {
			x.num[1] = math.NaN()
		} else {
			x.num[1] = math.Floor(r.exponential(500))
		}
		x.num[2] = roundTo(r.lognormal(2.0, 1.2), 1)
		x.num[3] = float64(r.poissonExp(expMinus2_5))
		x.cat[4] = r.choice(merchant)
		x.cat[5] = r.choice(fraudChannelP)
		if r.float() < 0.02 {
			x.cat[6] = -1
		} else {
			x.cat[6] = r.choice(fraudCountryP)
		}
	},
	predict: func(v int32, x []float64, c []int32) (float64, int32, float64) {
		p := sigmoid(fraudLogit(int(v), x, c))
		if p >= 0.5 {
			return math.NaN(), 1, p
		}
		return math.NaN(), 0, 1 - p
	},
	label: func(r *rng, x []float64, c []int32) (float64, int32) {
		if r.float() < sigmoid(fraudLogit(2, x, c)) {
			return math.NaN(), 1
		}
		return math.NaN(), 0
	},
}

// ---------------------------------------------------------------------------------------------
// churn-classifier: three-class softmax classifier.

var (
	churnContracts     = []string{"month-to-month", "one-year", "two-year"}
	churnContractP     = cumulative([]float64{0.50, 0.30, 0.20})
	churnContractDrift = cumulative([]float64{0.72, 0.18, 0.10})
	churnPlans         = []string{"basic", "standard", "premium"}
	churnPlanP         = cumulative([]float64{0.40, 0.40, 0.20})
	churnPayments      = []string{"card", "bank_transfer", "paypal", "invoice"}
	churnPaymentP      = cumulative([]float64{0.40, 0.25, 0.25, 0.10})

	churnContractFx = []float64{0.9, -0.3, -1.2}
	churnPlanFx     = []float64{0, 0.2, 0.6}
	churnPaymentFx  = []float64{0, 0, 0.1, 0.4}
)

// churnProbs writes the softmax probabilities of (stay, downgrade, churn) into p; truth shifts the
// logits slightly, as the real world differs from the fitted model.
func churnProbs(truth bool, x []float64, c []int32, p *[3]float64) {
	tenure := num(x[0], 30) - 30
	charges := num(x[1], 65) - 65
	tickets := num(x[2], 1) - 1
	usage := math.Log1p(math.Max(num(x[3], 25), 0)) - 3.2
	down := -1.1 + 0.03*charges + 0.3*tickets - 0.01*tenure - 0.2*usage + effect(churnPlanFx, c[5], 0)
	churn := -1.5 + 0.035*charges + 0.5*tickets - 0.03*tenure - 0.4*usage + effect(churnContractFx, c[4], 0) +
		effect(churnPaymentFx, c[6], 0.2)
	if truth {
		down += 0.1
		churn += 0.15 + 0.1*tickets
	}
	m := math.Max(0, math.Max(down, churn))
	e0, e1, e2 := math.Exp(-m), math.Exp(down-m), math.Exp(churn-m)
	s := e0 + e1 + e2
	p[0], p[1], p[2] = e0/s, e1/s, e2/s
}

var churnClassifier = &modelSpec{
	name:     "churn-classifier",
	versions: []string{"v3"},
	shares:   []float64{1},
	features: []featureSpec{
		{name: "tenure_months", kind: source.Numeric, impute: 30},
		{name: "monthly_charges", kind: source.Numeric, impute: 65},
		{name: "support_tickets", kind: source.Numeric, impute: 1},
		{name: "usage_gb", kind: source.Numeric, impute: 25},
		{name: "contract", kind: source.Categorical, cats: churnContracts},
		{name: "plan", kind: source.Categorical, cats: churnPlans},
		{name: "payment_method", kind: source.Categorical, cats: churnPayments},
	},
	predKind:      source.Categorical,
	classes:       []string{"stay", "downgrade", "churn"},
	hasScore:      true,
	baseRate:      2,
	peak:          16 * time.Hour,
	latencyMedian: []float64{42},
	labelShare:    0.2,
	drifted:       []string{"monthly_charges", "contract"},
	sample: func(r *rng, drift bool, x *row) {
		x.num[0] = math.Floor(72*math.Pow(r.float(), 1.3)) + 1
		mean := 65.0
		contract := churnContractP
		if drift {
			mean += 18
			contract = churnContractDrift
		}
		x.num[1] = math.Min(150, math.Max(18, roundTo(mean+20*r.norm(), 2)))
		x.num[2] = float64(r.poissonExp(expMinus1))
		if r.float() < 0.02 {
			x.num[3] = math.NaN()
		} else {
			x.num[3] = roundTo(r.lognormal(3.0, 0.8), 1)
		}
		x.cat[4] = r.choice(contract)
		x.cat[5] = r.choice(churnPlanP)
		if r.float() < 0.03 {
			x.cat[6] = -1
		} else {
			x.cat[6] = r.choice(churnPaymentP)
		}
	},
	predict: func(_ int32, x []float64, c []int32) (float64, int32, float64) {
		var p [3]float64
		churnProbs(false, x, c, &p)
		best := int32(0)
		for k := int32(1); k < 3; k++ {
			if p[k] > p[best] {
				best = k
			}
		}
		return math.NaN(), best, p[best]
	},
	label: func(r *rng, x []float64, c []int32) (float64, int32) {
		var p [3]float64
		churnProbs(true, x, c, &p)
		u := r.float()
		switch {
		case u < p[0]:
			return math.NaN(), 0
		case u < p[0]+p[1]:
			return math.NaN(), 1
		}
		return math.NaN(), 2
	},
}

// ---------------------------------------------------------------------------------------------
// price-regressor: linear regression of a house price.

var (
	priceNeighborhoods    = []string{"suburb", "downtown", "rural", "waterfront"}
	priceNeighborhoodP    = cumulative([]float64{0.50, 0.25, 0.20, 0.05})
	priceNeighborhoodDrft = cumulative([]float64{0.33, 0.45, 0.12, 0.10})
	priceConditions       = []string{"poor", "fair", "good", "excellent"}
	priceConditionP       = cumulative([]float64{0.08, 0.27, 0.45, 0.20})
	priceBedroomsP        = cumulative([]float64{0.10, 0.30, 0.35, 0.18, 0.07}) // 1..5
	priceBathroomsP       = cumulative([]float64{0.25, 0.20, 0.30, 0.15, 0.10}) // 1, 1.5, 2, 2.5, 3

	priceNeighborhoodFx = []float64{0, 90000, -40000, 250000}
	priceConditionFx    = []float64{-30000, -10000, 0, 25000}
)

// priceLinear is the fitted linear model (truth = false) or the true price function.
func priceLinear(truth bool, x []float64, c []int32) float64 {
	p := 40000 + 160*num(x[0], 1700) + 9000*num(x[1], 2.8) + 12000*num(x[2], 1.9) -
		600*num(x[3], 45) + 0.8*num(x[4], 7000) +
		effect(priceNeighborhoodFx, c[5], 0) + effect(priceConditionFx, c[6], 0)
	if truth {
		p += 4000 + 20*num(x[0], 1700) - 150*num(x[3], 45)
	}
	return p
}

var priceRegressor = &modelSpec{
	name:     "price-regressor",
	versions: []string{"v1"},
	shares:   []float64{1},
	features: []featureSpec{
		{name: "sqft", kind: source.Numeric, impute: 1700},
		{name: "bedrooms", kind: source.Numeric, impute: 2.8},
		{name: "bathrooms", kind: source.Numeric, impute: 1.9},
		{name: "age_years", kind: source.Numeric, impute: 45},
		{name: "lot_size_sqft", kind: source.Numeric, impute: 7000},
		{name: "neighborhood", kind: source.Categorical, cats: priceNeighborhoods},
		{name: "condition", kind: source.Categorical, cats: priceConditions},
	},
	predKind:      source.Numeric,
	hasScore:      false,
	baseRate:      3,
	peak:          20 * time.Hour,
	latencyMedian: []float64{14},
	labelShare:    0.15,
	drifted:       []string{"sqft", "neighborhood"},
	sample: func(r *rng, drift bool, x *row) {
		mu := math.Log(1600)
		nbh := priceNeighborhoodP
		if drift {
			mu += 0.25
			nbh = priceNeighborhoodDrft
		}
		x.num[0] = math.Round(r.lognormal(mu, 0.35))
		x.num[1] = float64(r.choice(priceBedroomsP) + 1)
		x.num[2] = 1 + 0.5*float64(r.choice(priceBathroomsP))
		u, hasAge := 0.0, false
		if r.float() < 0.02 {
			x.num[3] = math.NaN()
		} else {
			u, hasAge = r.float(), true
			x.num[3] = math.Floor(90 * u)
		}
		// Dependent on age_years except during the correlation break (correlation.go).
		x.num[4] = 10 * math.Round(math.Exp(math.Log(6000)+0.5*lotNormal(u, hasAge, x.corrBreak, r.norm()))/10)
		x.cat[5] = r.choice(nbh)
		x.cat[6] = r.choice(priceConditionP)
	},
	predict: func(_ int32, x []float64, c []int32) (float64, int32, float64) {
		return math.Round(priceLinear(false, x, c)), -1, math.NaN()
	},
	label: func(r *rng, x []float64, c []int32) (float64, int32) {
		truth := priceLinear(true, x, c)
		return math.Round(truth*(1+0.05*r.norm()) + 15000*r.norm()), -1
	},
}

var (
	expMinus2_5 = math.Exp(-2.5)
	expMinus1   = math.Exp(-1)
)

// specs lists the fleet in display order.
var specs = []*modelSpec{fraudDetector, churnClassifier, priceRegressor}

func init() {
	for i, m := range specs {
		m.id = key(uint64(i+1), uint64(len(m.name)))
		for _, c := range m.name {
			m.id = mix64(m.id ^ word(int64(c)))
		}
		m.shareCum = cumulative(m.shares)
		m.events = resolveEvents(m)
		for _, med := range m.latencyMedian {
			m.logMedian = append(m.logMedian, math.Log(med))
		}
	}
}
