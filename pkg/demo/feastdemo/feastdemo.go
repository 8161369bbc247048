// Package feastdemo is the Feast side of the demo fleet (package demo): a Feast project whose
// feature views register the demo models' features, computed from the fleet's records, so that the
// Feast query types (freshness, lookups, featureStats, skew, drift against Feast's baseline) have
// known answers. Everything is a pure function of (seed, time), like the fleet itself; nothing here
// changes a record of the fleet.
//
// The project (Project) has one feature view per demo model, keyed by the model's categorical
// features (their values are the join keys found in the prediction records) and holding its
// numeric features:
//
//	fraud_transactions  fraud-detector    join keys merchant_category, channel; ttl 6 h
//	churn_accounts      churn-classifier  join keys contract, plan; ttl 3 h
//	price_listings      price-regressor   join keys neighborhood, condition; ttl 6 h
//
// Known events, recurring daily (UTC):
//   - Materialization runs every hour on the hour, materializing [previous run, now] into the
//     online store: each entity's latest record up to then. churn_accounts' materialization
//     stops at StaleStop (12:00) and resumes at midnight (one interval covering the gap), so it
//     is stale (freshness status 2: older than its 3 h ttl) from StaleAt (15:00, up to the few
//     seconds between its last record and 12:00) to midnight, in warning (past half the ttl) from
//     13:30, and its lookups are OUTSIDE_MAX_AGE.
//   - fraud_transactions never materializes merchant_category MissingMerchant ("gaming"): its 3
//     of the 18 (merchant_category, channel) entities are NOT_FOUND in the online store.
//   - fraud_transactions' batch source holds distance_km in miles (SkewFeature: km / 1.609344,
//     rounded to 3 decimals): skew finds every non-null distance_km mismatched, and no other
//     feature; Feast's data-quality rows of the batch source (and its baseline) show the miles.
//
// The batch sources are PostgreSQL tables (one row per prediction record: its join keys, features
// and time), Feast's data-quality monitoring rows are daily (batch = the batch source, log = the
// served values, baseline = the model's reference sample as the batch source holds it), and the
// online store is Redis in Feast's layout.
package feastdemo

import (
	"time"
)

// Project is the demo's Feast project.
const Project = "modellens_demo"

// KeyVersion is the entity key serialization version the online store is written with (Feast's
// default since v0.50).
const KeyVersion = 3

// View is one feature view of the demo project.
type View struct {
	Name  string
	Model string
	// JoinKeys are categorical features of the model's records (one entity each, of the same name).
	JoinKeys []string
	// Features are numeric features of the model's records (DOUBLE in Feast).
	Features []string
	TTL      time.Duration
	// Table is the batch source table in PostgreSQL.
	Table string
}

// The demo's feature views.
var Views = []View{
	{Name: "fraud_transactions", Model: "fraud-detector", JoinKeys: []string{"merchant_category", "channel"},
		Features: []string{"amount", "account_age_days", "distance_km", "txn_count_24h"}, TTL: 6 * time.Hour,
		Table: "feast_fraud_transactions"},
	{Name: "churn_accounts", Model: "churn-classifier", JoinKeys: []string{"contract", "plan"},
		Features: []string{"tenure_months", "monthly_charges", "support_tickets", "usage_gb"}, TTL: 3 * time.Hour,
		Table: "feast_churn_accounts"},
	{Name: "price_listings", Model: "price-regressor", JoinKeys: []string{"neighborhood", "condition"},
		Features: []string{"sqft", "bedrooms", "bathrooms", "age_years", "lot_size_sqft"}, TTL: 6 * time.Hour,
		Table: "feast_price_listings"},
}

// ViewByName returns the demo view of that name.
func ViewByName(name string) (View, bool) {
	for _, v := range Views {
		if v.Name == name {
			return v, true
		}
	}
	return View{}, false
}

// Known events.
const (
	// StaleView's materialization stops at StaleStop each day and resumes at midnight.
	StaleView = "churn_accounts"
	StaleStop = 12 * time.Hour
	// StaleAt is when StaleView's newest online value becomes older than its ttl (3 h), up to
	// the seconds between its last record before StaleStop and StaleStop.
	StaleAt = 15 * time.Hour

	// MissingView never materializes the entities whose MissingKey is MissingValue.
	MissingView  = "fraud_transactions"
	MissingKey   = "merchant_category"
	MissingValue = "gaming"

	// SkewView's batch source holds SkewFeature in miles (km / KmPerMile, rounded to 3 decimals)
	// where the records carry kilometres.
	SkewView    = "fraud_transactions"
	SkewFeature = "distance_km"
	KmPerMile   = 1.609344
)

// TimestampField and CreatedField are the batch sources' event and created time columns.
const (
	TimestampField = "event_timestamp"
	CreatedField   = "created"
)

// MaterializeEvery is the materialization schedule: on the hour.
const MaterializeEvery = time.Hour

// materializes reports whether view materializes at time t (a whole hour).
func materializes(view string, t time.Time) bool {
	if view != StaleView {
		return true
	}
	tod := t.Sub(t.Truncate(24 * time.Hour))
	return tod == 0 || tod <= StaleStop
}

// LastMaterialization is the end of view's latest materialization at or before t.
func LastMaterialization(view string, t time.Time) time.Time {
	h := t.UTC().Truncate(MaterializeEvery)
	for !materializes(view, h) {
		h = h.Add(-MaterializeEvery)
	}
	return h
}

// Intervals are view's materialization intervals that ended in (from, to], oldest first: each
// run materializes [previous run, run].
func Intervals(view string, from, to time.Time) [][2]time.Time {
	var out [][2]time.Time
	end := LastMaterialization(view, to)
	for !end.Before(from) && end.After(from) {
		start := LastMaterialization(view, end.Add(-time.Nanosecond))
		out = append(out, [2]time.Time{start, end})
		end = start
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// Stale reports whether StaleView is past its ttl at t (by its materialization; the online
// store's newest event is a few seconds older).
func Stale(t time.Time) bool {
	v, _ := ViewByName(StaleView)
	return t.Sub(LastMaterialization(StaleView, t)) > v.TTL
}
