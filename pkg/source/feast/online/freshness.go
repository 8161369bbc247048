package online

import (
	"context"

	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
)

// Freshness adapts a Store to feast.OnlineStore, what the freshness query reads: the newest event
// timestamp of a view over all its entities. The view's join keys come from its entity columns,
// else from the registry's entities.
type Freshness struct {
	Store    Store
	Registry feast.RegistryReader
}

var _ feast.OnlineStore = Freshness{}

// NewestEventTime implements feast.OnlineStore. A Redis scan cut at limits.FeastScanKeys answers
// the newest time among the keys scanned, and says where it was cut.
func (f Freshness) NewestEventTime(ctx context.Context, v *feast.FeatureView) (feast.NewestEvent, error) {
	var keys []string
	for _, c := range v.EntityColumns {
		keys = append(keys, c.Name)
	}
	if len(keys) == 0 && f.Registry != nil {
		reg, err := f.Registry.Registry(ctx)
		if err != nil {
			return feast.NewestEvent{}, err
		}
		for _, jk := range reg.JoinKeys(v) {
			keys = append(keys, jk.Name)
		}
	}
	n, err := f.Store.NewestEventTime(ctx, v.Name, keys)
	if err != nil {
		return feast.NewestEvent{}, err
	}
	ev := feast.NewestEvent{Time: n.Time}
	if n.Partial {
		ev.ScanCapped = n.ScanLimit
	}
	return ev, nil
}
