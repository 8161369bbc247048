package plugin

import (
	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/endpoint"
)

var _ query.EndpointClient = endpoint.Health{}

// endpoints builds a client per configured endpoint that speaks an inference protocol (oip,
// triton); "metrics" endpoints are read through Prometheus and have no client.
func endpoints(s *settings.Settings, d *Datasource) ([]query.Endpoint, error) {
	var out []query.Endpoint
	for _, ep := range s.Endpoints {
		if !endpoint.Supports(ep.Protocol) {
			continue
		}
		c, err := endpoint.New(d.client, ep, s.EndpointToken)
		if err != nil {
			return nil, err
		}
		out = append(out, query.Endpoint{Name: ep.Name, Client: endpoint.Health{Client: c}})
	}
	return out, nil
}
