package plugin

import (
	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"
)

// redactor hides the data source's secrets (every value of its decrypted secure settings: the
// tokens, the basic-auth password and its base64 form, custom header values, TLS keys) in what
// the plugin answers with: query errors, frame notices, CheckHealth messages and resource bodies.
// The connectors already redact before they cut an excerpt (upstream.Redactor); this last pass
// also hides a piece of a secret next to any cut mark that reached an answer another way.
type redactor struct {
	r *upstream.Redactor
}

func (r redactor) text(s string) string { return r.r.String(s) }

func (r redactor) err(err error) error { return r.r.Error(err) }

// response redacts a query response's error and its frames' notices.
func (r redactor) response(res backend.DataResponse) backend.DataResponse {
	if r.r.Empty() {
		return res
	}
	res.Error = r.err(res.Error)
	for _, f := range res.Frames {
		if f == nil || f.Meta == nil {
			continue
		}
		for i := range f.Meta.Notices {
			f.Meta.Notices[i].Text = r.text(f.Meta.Notices[i].Text)
		}
	}
	return res
}

// sender redacts resource response bodies.
func (r redactor) sender(s backend.CallResourceResponseSender) backend.CallResourceResponseSender {
	if r.r.Empty() {
		return s
	}
	return backend.CallResourceResponseSenderFunc(func(res *backend.CallResourceResponse) error {
		if res != nil {
			res.Body = r.r.Bytes(res.Body)
		}
		return s.Send(res)
	})
}

// health redacts a CheckHealth result.
func (r redactor) health(res *backend.CheckHealthResult, err error) (*backend.CheckHealthResult, error) {
	if res != nil {
		res.Message = r.text(res.Message)
	}
	return res, r.err(err)
}
