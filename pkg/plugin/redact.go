package plugin

import (
	"bytes"
	"sort"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// redactor hides the data source's secrets (every value of its decrypted secure settings: the
// tokens, the basic-auth password, custom header values, TLS keys) in what the plugin answers with:
// query errors, frame notices, CheckHealth messages and resource bodies. The connectors already
// redact their own token; this also covers what an upstream echoes back of the other credentials
// the SDK's HTTP client sends (a custom header in a 401 body, for instance).
type redactor struct {
	// secrets, longest first so that a secret containing another is hidden whole.
	secrets []string
}

const redactedText = "[redacted]"

func newRedactor(secure map[string]string) redactor {
	var r redactor
	for _, v := range secure {
		if v = strings.TrimSpace(v); v != "" {
			r.secrets = append(r.secrets, v)
		}
	}
	sort.Slice(r.secrets, func(i, j int) bool { return len(r.secrets[i]) > len(r.secrets[j]) })
	return r
}

func (r redactor) text(s string) string {
	for _, x := range r.secrets {
		if strings.Contains(s, x) {
			s = strings.ReplaceAll(s, x, redactedText)
		}
	}
	return s
}

// redactedError keeps the error chain (errors.Is/As, ErrorSource) with a redacted message.
type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

func (r redactor) err(err error) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); r.text(msg) != msg {
		return &redactedError{err: err, msg: r.text(msg)}
	}
	return err
}

// response redacts a query response's error and its frames' notices.
func (r redactor) response(res backend.DataResponse) backend.DataResponse {
	if len(r.secrets) == 0 {
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
	if len(r.secrets) == 0 {
		return s
	}
	return backend.CallResourceResponseSenderFunc(func(res *backend.CallResourceResponse) error {
		if res != nil {
			for _, x := range r.secrets {
				if bytes.Contains(res.Body, []byte(x)) {
					res.Body = bytes.ReplaceAll(res.Body, []byte(x), []byte(redactedText))
				}
			}
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
