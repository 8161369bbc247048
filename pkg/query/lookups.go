package query

import (
	"context"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// lookupStatus classifies one (entity, feature) of the online store at time now (DESIGN §4):
// NOT_FOUND when nothing is stored, NULL_VALUE when a null is stored, OUTSIDE_MAX_AGE when
// now − event time > ttl (ttl 0 never expires), else PRESENT.
func lookupStatus(found bool, c online.Cell, ttl time.Duration, now time.Time) string {
	switch {
	case !found || !c.Stored:
		return StatusNotFound
	case c.Value.IsNull():
		return StatusNullValue
	case ttl > 0 && !c.EventTime.IsZero() && now.Sub(c.EventTime) > ttl:
		return StatusOutsideMaxAge
	}
	return StatusPresent
}

// lookups answers `lookups`: per feature view, the share of the probe set's (entity, feature)
// pairs in each status, read from the online store at query time. Labels featureView, status.
func (h *Handler) lookups(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	fd, err := h.feast(TypeLookups, true, false)
	if err != nil {
		return nil, err
	}
	reg, views, err := h.feastViews(ctx, q, func(v *feast.FeatureView) bool { return v.Online })
	if err != nil {
		return nil, err
	}
	if len(views) == 0 {
		return nil, userError("project %q has no online feature views in the Feast registry", fd.Project)
	}
	probes, notices, err := h.probeSet(ctx, r, reg, views)
	if err != nil {
		return nil, err
	}
	now := fd.Now()
	g := grid{times: []time.Time{now}, latest: q.Output == OutputLatest}
	var out seriesSet
	for _, v := range views {
		jk := reg.JoinKeys(v)
		var keys []online.EntityKey
		for _, p := range probes {
			if k, ok := entityKey(p, jk); ok {
				keys = append(keys, k)
			}
		}
		if len(keys) == 0 {
			notices = append(notices, frames.InfoNotice(fmt.Sprintf("feature view %s: no probed entity has its join keys %s", v.Name, joinKeyNames(jk))))
			continue
		}
		if skipped := len(probes) - len(keys); skipped > 0 {
			notices = append(notices, frames.InfoNotice(fmt.Sprintf("feature view %s: %d of %d probed entities lack its join keys %s and are left out",
				v.Name, skipped, len(probes), joinKeyNames(jk))))
		}
		features := make([]string, len(v.Features))
		for i, f := range v.Features {
			features[i] = f.Name
		}
		if len(features) == 0 {
			continue
		}
		rows, err := fd.Online.Read(ctx, v.Name, features, keys)
		if err != nil {
			if errors.Is(err, online.ErrNoTable) {
				return nil, userError("%v", err)
			}
			return nil, feastError("feast online store", err)
		}
		counts := map[string]float64{}
		found := 0
		for _, row := range rows {
			if row.Found {
				found++
			}
			for _, c := range row.Cells {
				counts[lookupStatus(row.Found, c, v.TTL, now)]++
			}
		}
		if found == 0 {
			// Nothing found at all: say so when the store's keys were written with another version.
			var kv *online.KeyVersionError
			if err := online.CheckStoredVersion(ctx, fd.Online, v.Name, names(jk)); errors.As(err, &kv) {
				return nil, userError("%v", kv)
			} else if err != nil && !errors.Is(err, online.ErrNoTable) {
				return nil, feastError("feast online store", err)
			}
		}
		total := float64(len(rows) * len(features))
		for _, st := range LookupStatuses {
			val := math.NaN()
			if total > 0 {
				val = counts[st] / total
			}
			out.add(data.Labels{"featureView": v.Name, "status": st}, "value", "percentunit", g.times, []float64{val})
		}
	}
	return out.frames(g, frames.Info{Source: SourceFeast, Notices: notices}), nil
}

func names(fs []feast.Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func joinKeyNames(fs []feast.Field) string { return quoteAll(names(fs)) }
