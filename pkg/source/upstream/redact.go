package upstream

import (
	"bytes"
	"encoding/json"
	"io"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// Redacted replaces a secret in text.
const Redacted = "[redacted]"

// Cut marks where a text was shortened (Printable, Excerpt and the connectors' value excerpts).
const Cut = "…"

// Redactor hides the secrets of a data source (bearer tokens, the basic-auth password, custom
// header values, every secureJsonData value) in text that leaves the plugin: error messages,
// health messages, notices, resource bodies and logs. It replaces every whole occurrence of a
// secret, in the forms an upstream may echo it (as sent, JSON- or URL-escaped, quoted, and the
// base64 "user:password" of basic auth), and, where a text was cut (at Cut, or at the end of an
// excerpt), any piece of a secret of limits.SecretPrefix characters or more next to the cut.
// Excerpt redacts before it cuts. A nil *Redactor has no secrets but still cuts safely.
type Redactor struct {
	secrets  []string // every form of every secret, longest first
	replacer *strings.Replacer
}

// NewRedactor returns a redactor of secrets (empty and blank values are ignored).
func NewRedactor(secrets ...string) *Redactor {
	return (*Redactor)(nil).With(secrets...)
}

// With returns a redactor of r's secrets and of secrets.
func (r *Redactor) With(secrets ...string) *Redactor {
	seen := map[string]bool{}
	var all []string
	add := func(s string) {
		if strings.TrimSpace(s) != "" && !seen[s] {
			seen[s] = true
			all = append(all, s)
		}
	}
	if r != nil {
		for _, s := range r.secrets {
			add(s)
		}
	}
	for _, s := range secrets {
		for _, v := range forms(s) {
			add(v)
		}
	}
	sort.SliceStable(all, func(i, j int) bool { return len(all[i]) > len(all[j]) })
	out := &Redactor{secrets: all}
	if len(all) > 0 {
		pairs := make([]string, 0, 2*len(all))
		for _, s := range all {
			pairs = append(pairs, s, Redacted)
		}
		out.replacer = strings.NewReplacer(pairs...)
	}
	return out
}

// forms are the ways an upstream may echo s back.
func forms(s string) []string {
	if strings.TrimSpace(s) == "" {
		return nil
	}
	out := []string{s, url.QueryEscape(s), url.PathEscape(s), Printable(s, len(s))}
	if q := strconv.Quote(s); len(q) >= 2 {
		out = append(out, q[1:len(q)-1])
	}
	if b, err := json.Marshal(s); err == nil && len(b) >= 2 {
		out = append(out, string(b[1:len(b)-1]))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(s) == nil {
		if b := bytes.TrimSpace(buf.Bytes()); len(b) >= 2 {
			out = append(out, string(b[1:len(b)-1]))
		}
	}
	return out
}

// Empty reports whether r has no secret.
func (r *Redactor) Empty() bool { return r == nil || len(r.secrets) == 0 }

// String redacts s: whole secrets, and pieces of secrets next to a Cut mark.
func (r *Redactor) String(s string) string {
	if r.Empty() {
		return s
	}
	s = r.replacer.Replace(s)
	if !strings.Contains(s, Cut) {
		return s
	}
	parts := strings.Split(s, Cut)
	for i := range parts {
		if i < len(parts)-1 {
			parts[i] = r.trimPrefixAtEnd(parts[i])
		}
		if i > 0 {
			parts[i] = r.trimSuffixAtStart(parts[i])
		}
	}
	return strings.Join(parts, Cut)
}

// trimPrefixAtEnd replaces a trailing prefix (of SecretPrefix characters or more) of a secret.
func (r *Redactor) trimPrefixAtEnd(s string) string {
	for _, x := range r.secrets {
		for k := len(x) - 1; k >= limits.SecretPrefix; k-- {
			if strings.HasSuffix(s, x[:k]) {
				return s[:len(s)-k] + Redacted
			}
		}
	}
	return s
}

// trimSuffixAtStart replaces a leading suffix (of SecretPrefix characters or more) of a secret.
func (r *Redactor) trimSuffixAtStart(s string) string {
	for _, x := range r.secrets {
		for k := len(x) - 1; k >= limits.SecretPrefix; k-- {
			if strings.HasPrefix(s, x[len(x)-k:]) {
				return Redacted + s[k:]
			}
		}
	}
	return s
}

// Bytes redacts b (resource bodies); it returns b itself when nothing changes.
func (r *Redactor) Bytes(b []byte) []byte {
	if r.Empty() {
		return b
	}
	if s := r.String(string(b)); s != string(b) {
		return []byte(s)
	}
	return b
}

// Error returns err with a redacted message; errors.Is and errors.As still see the chain (and
// the SDK its error source).
func (r *Redactor) Error(err error) error {
	if err == nil || r.Empty() {
		return err
	}
	if msg := err.Error(); r.String(msg) != msg {
		return &redactedError{err: err, msg: r.String(msg)}
	}
	return err
}

type redactedError struct {
	err error
	msg string
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Excerpt redacts s, then cuts it to n printable characters (Printable); a piece of a secret
// left at the cut is redacted too.
func (r *Redactor) Excerpt(s string, n int) string {
	return r.String(Printable(r.String(s), n))
}

// BodyExcerpt reads at most limits.ErrorBody bytes of an error body and returns its message,
// redacted before it is cut: the `error` string (OIP, the Prediction Log API), `error.message`,
// `message` or a FastAPI `detail` string of a JSON body; else the title of an HTML error page
// (proxies); else its first limits.ErrorExcerpt printable characters.
func (r *Redactor) BodyExcerpt(body io.Reader) string {
	raw, _ := io.ReadAll(io.LimitReader(body, limits.ErrorBody+1))
	text := string(raw)
	if len(raw) > limits.ErrorBody {
		// The body goes on: its end is a cut.
		text = string(raw[:limits.ErrorBody]) + Cut
		raw = raw[:limits.ErrorBody]
	}
	var e struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
		Detail  any    `json:"detail"`
	}
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
	} else {
		lower := strings.ToLower(text)
		if i := strings.Index(lower, "<title>"); i >= 0 {
			if j := strings.Index(lower[i:], "</title>"); j > 0 {
				text = text[i+len("<title>") : i+j]
			}
		}
	}
	return r.Excerpt(text, limits.ErrorExcerpt)
}
