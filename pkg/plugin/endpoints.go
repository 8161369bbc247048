package plugin

import (
	"context"

	"github.com/modellens/mlmonitoring-datasource/pkg/query"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/endpoint"
)

// endpointClient adapts an Open Inference Protocol client to query.EndpointClient.
type endpointClient struct{ c *endpoint.Client }

func (e endpointClient) Ready(ctx context.Context, model string) (bool, error) {
	return e.c.Ready(ctx, model)
}

func (e endpointClient) ServerReady(ctx context.Context) (bool, error) { return e.c.ServerReady(ctx) }

func (e endpointClient) Models(ctx context.Context) ([]string, error) { return e.c.ModelNames(ctx) }

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
		out = append(out, query.Endpoint{Name: ep.Name, Client: endpointClient{c}})
	}
	return out, nil
}
