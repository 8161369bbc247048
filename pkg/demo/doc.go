// Package demo is ModelLens's synthetic fleet of models and the demo model server that serves it.
//
// # The fleet
//
// A Fleet produces prediction records that are a pure function of (seed, model, time): any time
// range can be generated on demand, identically in the plugin (the "demo" source) and in the demo
// model server, without storing anything. Generating [a, c] gives exactly the records of [a, b]
// followed by those of (b, c]. Every random number comes from a counter-based SplitMix64 stream
// keyed by (seed, model, second, index), so a range costs only its own records.
//
// Models (DefaultSeed = 42, rate multiplier 1):
//
//	fraud-detector    binary classifier, versions v1 (70% of traffic, median latency 26 ms) and v2
//	                  (30%, 18 ms); prediction "legit"/"fraud", score = probability of the
//	                  predicted class (a logistic model); 4 records/s on average; 30% labelled.
//	                  Features: amount, account_age_days (3% null), distance_km, txn_count_24h
//	                  (numeric); merchant_category, channel, country (2% null) (categorical).
//	churn-classifier  three-class softmax classifier "stay"/"downgrade"/"churn", version v3, score =
//	                  top-class probability; 2 records/s, 42 ms; 20% labelled.
//	                  Features: tenure_months, monthly_charges, support_tickets, usage_gb (2% null)
//	                  (numeric); contract, plan, payment_method (3% null) (categorical).
//	price-regressor   linear regression of a house price (numeric prediction, no score), version
//	                  v1; 3 records/s, 14 ms; 15% labelled with the true price (linear + noise).
//	                  Features: sqft, bedrooms, bathrooms, age_years (2% null), lot_size_sqft
//	                  (numeric); neighborhood, condition (categorical).
//
// Traffic follows a 24 h sinusoid (DiurnalAmplitude around MeanRate, peaking at PeakHour) with
// per-minute log-normal noise, Poisson per second. Latency is a log-normal body (σ = 0.35, slightly
// higher under load) with a 2% Pareto tail (α = 1.5); errors are fast failures or ~1 s timeouts.
//
// Known events, recurring daily (UTC): input drift from DriftStart (06:00) to midnight in the
// DriftedFeatures of each model, which the toy models turn into prediction drift; ErrorBursts
// (fraud-detector v2 09:00–09:15 at 30% errors, churn-classifier 16:30–16:45 at 25%,
// price-regressor 11:00–11:20 at 15%; BaselineErrorRatio 0.5% otherwise); and Outages
// (churn-classifier 03:20–03:30: not ready, every request fails); data-quality incidents
// (NullIncident: fraud-detector's distance_km null 20:00–21:00; NewCategoryIncident: churn-classifier's
// payment_method "crypto_wallet", a category the reference never has, in 10% of records 18:00–19:00); and a CorrelationBreak
// (price-regressor 02:00–04:00: age_years and lot_size_sqft, dependent at every other time and in
// the reference, are drawn independently; each keeps its own distribution). Reference (training) samples have
// ReferenceSize rows from the undrifted distributions, per version or pooled.
//
// # The demo model server
//
// NewServer wraps a Fleet in an http.Handler (the demo-model command serves it): the Prediction Log
// API v1 of DESIGN §6 under /api/v1, the Open Inference Protocol v2 under /v2 (health, metadata,
// readiness from Fleet.Ready, repository index, inference with the toy models) and Prometheus
// metrics at /metrics, which a live loop fills by replaying the fleet's records as time passes.
package demo
