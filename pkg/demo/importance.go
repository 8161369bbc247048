package demo

// featureImportance is the importance the demo fleet declares for each model's features (Prediction
// Log API `/models`, optional `importance`): illustrative weights that sum to 1 per model and follow
// the toy models' strongest effects (fraud-detector leans on amount and merchant_category,
// churn-classifier on monthly_charges and contract, price-regressor on sqft and neighborhood).
var featureImportance = map[string]map[string]float64{
	"fraud-detector": {"amount": 0.35, "merchant_category": 0.20, "distance_km": 0.12, "channel": 0.12,
		"txn_count_24h": 0.10, "country": 0.07, "account_age_days": 0.04},
	"churn-classifier": {"monthly_charges": 0.30, "contract": 0.25, "tenure_months": 0.20, "support_tickets": 0.12,
		"usage_gb": 0.07, "payment_method": 0.04, "plan": 0.02},
	"price-regressor": {"sqft": 0.45, "neighborhood": 0.25, "age_years": 0.08, "bedrooms": 0.07, "bathrooms": 0.07,
		"condition": 0.05, "lot_size_sqft": 0.03},
}

// importance returns the declared importance of a model's feature (nil: none).
func importance(model, feature string) *float64 {
	if w, ok := featureImportance[model][feature]; ok {
		return &w
	}
	return nil
}
