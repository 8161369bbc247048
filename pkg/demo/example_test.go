package demo_test

import (
	"context"
	"fmt"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// The fleet answers any time range on demand; the same seed gives the same records everywhere.
func ExampleFleet_Records() {
	f := demo.NewFleet(demo.DefaultSeed)
	from := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	b, err := f.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Start: from, End: from.Add(time.Minute)})
	if err != nil {
		fmt.Println(err)
		return
	}
	amount := b.Features["amount"]
	fmt.Println(b.Len(), "records; first:", time.Unix(0, b.TS[0]).UTC().Format(time.RFC3339Nano),
		b.Versions[b.Version[0]], b.Prediction.Dict[b.Prediction.Cat[0]], amount.Num[0])
	fmt.Println("drift active:", demo.DriftActive(from), "in", demo.DriftedFeatures["fraud-detector"])
	// Output:
	// 331 records; first: 2026-03-02T10:00:00.009196921Z v1 legit 34.99
	// drift active: true in [amount merchant_category]
}

// Infer runs a toy model on named features.
func ExampleFleet_Infer() {
	f := demo.NewFleet(demo.DefaultSeed)
	p, score, err := f.Infer("fraud-detector", "v2", map[string]any{"amount": 5000.0, "merchant_category": "gaming", "channel": "web"})
	fmt.Printf("%v %.2f %v\n", p, *score, err)
	// Output:
	// fraud 0.99 <nil>
}
