package demo

import (
	"context"
	"fmt"
	"hash/fnv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// TestGeneratorStable pins the records of the default fleet: golden files elsewhere (query
// handlers, dashboards) are computed from them, so a change to the generator must be deliberate.
// The fingerprint covers times, versions, statuses, classes and categories — values that do not
// depend on the last bits of math.Exp/Log, which differ between architectures.
func TestGeneratorStable(t *testing.T) {
	f := NewFleet(DefaultSeed)
	from := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	want := map[string]string{
		// The labels of 10:00–10:10 follow the fraud pattern (FraudDegradation); without the label
		// events (TestLabelEventsChangeOnlyLabels) the fingerprint is 6957884bc9ac756b, as before them.
		"fraud-detector":   "3499 records, fnv64a d6842ba004680288",
		"churn-classifier": "1275 records, fnv64a f1be3e4d6e0d1ee0",
		"price-regressor":  "973 records, fnv64a 52c0670a1b3138ec",
	}
	for _, m := range specs {
		h := fnv.New64a()
		n := 0
		err := f.eachRow(context.Background(), m, -1, from, from.Add(10*time.Minute), func(x *row) error {
			fmt.Fprintf(h, "%d %d %v %d %d", x.ts, x.version, x.err, x.predCat, x.labelCat)
			for i, fs := range m.features {
				if fs.kind == source.Categorical {
					fmt.Fprintf(h, " %d", x.cat[i])
				}
			}
			n++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got := fmt.Sprintf("%d records, fnv64a %016x", n, h.Sum64())
		if got != want[m.name] {
			t.Errorf("%s: %s, want %s", m.name, got, want[m.name])
		}
	}
}

// TestConcurrentUse runs generators, references and inference from several goroutines on one fleet
// (run with -race): answers agree with a sequential run.
func TestConcurrentUse(t *testing.T) {
	f := NewFleet(DefaultSeed)
	want := strings.Join(batchLines(records(t, f, "fraud-detector", "", at(10, 0), at(10, 5))), "\n")
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b, err := f.Records(context.Background(), source.RecordsRequest{Model: "fraud-detector", Start: at(10, 0), End: at(10, 5)})
			if err != nil {
				errs <- err
				return
			}
			if strings.Join(batchLines(b), "\n") != want {
				errs <- fmt.Errorf("concurrent Records differ")
			}
			if _, err := f.Reference(context.Background(), "churn-classifier", ""); err != nil {
				errs <- err
			}
			if _, _, err := f.Infer("price-regressor", "", map[string]any{"sqft": 1200.0}); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}
