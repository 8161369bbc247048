// Package upstream holds what every HTTP connector needs to turn an upstream answer into a short,
// safe error message: the status text, an excerpt of the error body, and redaction of secrets.
package upstream

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// MaxErrorBody is how much of an error body is read for its excerpt.
const MaxErrorBody = limits.ErrorBody

// StatusText is "404 Not Found", or "HTTP 599" for a code without a standard text.
func StatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return "HTTP " + strconv.Itoa(code)
}

// BodyExcerpt reads at most MaxErrorBody bytes of an error body and returns its message: the
// `error` string (OIP, the Prediction Log API), `error.message`, `message` or a FastAPI `detail`
// string of a JSON body; else the title of an HTML error page (proxies); else its first 200
// printable characters.
func BodyExcerpt(r io.Reader) string {
	raw, _ := io.ReadAll(io.LimitReader(r, MaxErrorBody))
	var e struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
		Detail  any    `json:"detail"`
	}
	text := string(raw)
	if json.Unmarshal(raw, &e) == nil {
		switch v := e.Error.(type) {
		case string:
			text = v
		case map[string]any:
			if m, ok := v["message"].(string); ok {
				text = m
			}
		default:
			if e.Message != "" {
				text = e.Message
			} else if d, ok := e.Detail.(string); ok {
				text = d
			}
		}
	}
	if text == string(raw) {
		lower := strings.ToLower(text)
		if i := strings.Index(lower, "<title>"); i >= 0 {
			if j := strings.Index(lower[i:], "</title>"); j > 0 {
				text = text[i+len("<title>") : i+j]
			}
		}
	}
	return Printable(text, 200)
}

// Printable collapses whitespace, drops control characters and cuts s to n runes (with "…").
func Printable(s string, n int) string {
	var b strings.Builder
	count, space := 0, false
	for _, r := range strings.TrimSpace(s) {
		if r == utf8.RuneError || r < 0x20 || r == 0x7f || r == ' ' {
			space = space || r == ' ' || r == '\n' || r == '\t' || r == '\r'
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
			count++
		}
		space = false
		if count >= n {
			b.WriteString("…")
			break
		}
		b.WriteRune(r)
		count++
	}
	return b.String()
}

// redacted hides a secret in an error message while keeping the error chain.
type redacted struct {
	err    error
	secret string
}

func (r *redacted) Error() string { return strings.ReplaceAll(r.err.Error(), r.secret, "[redacted]") }
func (r *redacted) Unwrap() error { return r.err }

// Redact returns err with every occurrence of secret in its message replaced by "[redacted]";
// errors.Is and errors.As still see the wrapped chain.
func Redact(err error, secret string) error {
	if secret == "" || err == nil {
		return err
	}
	return &redacted{err: err, secret: secret}
}
