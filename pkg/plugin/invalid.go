package plugin

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// invalidSettings is the instance of a data source whose settings do not parse (an unknown or
// misspelt key, a bad URL, no source configured): Save & test fails with the settings error, and
// so does every query of every request and every resource call. Returning the error from the
// factory instead would answer only the first query of a request (the SDK's instance manager
// attaches a factory error to Queries[0]) and leave the others without a response.
type invalidSettings struct {
	err error // a downstream error naming the setting; never carries a secret
}

var (
	_ backend.QueryDataHandler    = invalidSettings{}
	_ backend.CheckHealthHandler  = invalidSettings{}
	_ backend.CallResourceHandler = invalidSettings{}
)

func (s invalidSettings) QueryData(_ context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	for _, q := range req.Queries {
		resp.Responses[q.RefID] = backend.ErrorResponseWithErrorSource(s.err)
	}
	return resp, nil
}

func (s invalidSettings) CheckHealth(context.Context, *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: "Invalid settings: " + s.err.Error()}, nil
}

func (s invalidSettings) CallResource(_ context.Context, _ *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	body, err := json.Marshal(map[string]string{"error": "invalid settings: " + s.err.Error()})
	if err != nil {
		return err
	}
	return sender.Send(&backend.CallResourceResponse{Status: http.StatusBadRequest,
		Headers: map[string][]string{"Content-Type": {"application/json"}}, Body: body})
}
