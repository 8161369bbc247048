package query

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/modellens/mlmonitoring-datasource/pkg/frames"
)

// resolveHealth picks the source of a health answer: configured endpoints first, then the demo
// fleet, then Prometheus scrape targets; an explicit source must be one of those and configured.
func (h *Handler) resolveHealth(ctx context.Context, name, model string) (Resolved, error) {
	switch name {
	case "", SourceAuto:
		switch {
		case len(h.deps.Endpoints) > 0:
			return Resolved{Name: SourceEndpoint}, nil
		case h.deps.Demo != nil:
			return usedDemo(ctx, h.cat.byName(SourceDemo)), nil
		case h.deps.Metrics != nil:
			return h.cat.byName(SourcePrometheus), nil
		}
		return Resolved{}, userError("health needs model endpoints, Prometheus or the demo fleet in the data source settings")
	case SourcePredictionLog, SourceSQL:
		return Resolved{}, userError("the %s source has no health information; use source %q, %q or %q", name, SourceEndpoint, SourcePrometheus, SourceDemo)
	}
	return h.cat.Resolve(ctx, name, model)
}

// health answers `health`: one number per endpoint and model, 1 when ready and 0 when not (or
// unreachable, with a notice); an endpoint that cannot list its models gives its server readiness
// under model "*". Labels `endpoint`, `model`. In demo mode, the fleet's readiness at
// the end of the range (endpoint "demo"); with Prometheus, the up state of each scrape target.
func (h *Handler) health(ctx context.Context, r *request) (data.Frames, error) {
	q := &r.q
	src, err := h.resolveHealth(ctx, q.Source, q.Model)
	if err != nil {
		return nil, err
	}
	info := frames.Info{Source: src.Name}
	var nums []frames.Number
	add := func(l data.Labels, ok bool) {
		v := 0.0
		if ok {
			v = 1
		}
		nums = append(nums, frames.Number{Name: "ready", Labels: l, Value: v})
	}
	switch src.Name {
	case SourceEndpoint:
		for _, ep := range h.deps.Endpoints {
			models := []string{q.Model}
			if !allModels(q.Model) && ep.Name != q.Model {
				// A named model is reported by the endpoints that serve it, and by those that
				// cannot say (unreachable, no model index): an endpoint listing other models only
				// is not "not ready" for it.
				if ms, err := ep.Client.Models(ctx); err == nil && !slices.Contains(ms, q.Model) {
					continue
				}
			}
			if allModels(q.Model) {
				ms, err := ep.Client.Models(ctx)
				if err != nil {
					// No model list: the server's readiness stands for all its models.
					ok, rerr := ep.Client.ServerReady(ctx)
					if rerr != nil {
						info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf("endpoint %s: %v", ep.Name, rerr)))
					} else {
						info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("endpoint %s lists no models (%v): server readiness shown as model \"*\"", ep.Name, err)))
					}
					add(data.Labels{"endpoint": ep.Name, "model": "*"}, ok && rerr == nil)
					continue
				}
				models = ms
				sort.Strings(models)
			}
			for _, m := range dedupe(models) {
				ok, err := ep.Client.Ready(ctx, m)
				if err != nil {
					info.Notices = append(info.Notices, frames.WarningNotice(fmt.Sprintf("endpoint %s, model %s: %v", ep.Name, m, err)))
				}
				add(data.Labels{"endpoint": ep.Name, "model": m}, ok && err == nil)
			}
		}
	case SourceDemo:
		models, err := h.cat.models(ctx, src, q.Model)
		if err != nil {
			return nil, err
		}
		for _, m := range models {
			add(data.Labels{"endpoint": SourceDemo, "model": m.Name}, h.deps.Demo.Ready(m.Name, r.dq.TimeRange.To))
		}
	case SourcePrometheus:
		targets, err := src.Metrics.Targets(ctx)
		if err != nil {
			return nil, sourceError(src.Name, err)
		}
		seen := map[string]bool{}
		for _, t := range targets {
			if !allModels(q.Model) && t.Model != q.Model {
				continue
			}
			if q.Version != "" && q.Version != WildcardAllVersions && t.Version != q.Version {
				continue
			}
			l := data.Labels{"endpoint": t.Instance, "model": t.Model}
			if l["endpoint"] == "" {
				l["endpoint"] = "unknown"
			}
			if l["model"] == "" {
				l["model"] = "unknown"
			}
			if t.Version != "" {
				l["version"] = t.Version
			}
			if seen[l.String()] {
				continue
			}
			seen[l.String()] = true
			add(l, t.Up)
		}
		sort.Slice(nums, func(i, j int) bool { return nums[i].Labels.String() < nums[j].Labels.String() })
	default:
		return nil, userError("source %q has no health information", src.Name)
	}
	if len(nums) == 0 && !allModels(q.Model) {
		info.Notices = append(info.Notices, frames.InfoNotice(fmt.Sprintf("no %s reports model %q", src.Name, q.Model)))
	}
	return frames.Numbers(nums, info), nil
}
