package settings

import (
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strings"
)

// The jsonData keys a data source may carry are, in one place:
//   - the plugin's own: the json tags of raw (and of the structs it holds, at any depth), so a
//     field added to raw is known at once;
//   - the ones the SDK's HTTP client options and Grafana's auth section read: the json tags of
//     grafanaHTTP below, plus httpHeaderName<N>.
//
// Any other key, at any depth, is an error naming it (with a suggestion for a near miss): a typo
// must never leave a source unconfigured and let the demo fleet answer in its place.

// grafanaHTTP lists the jsonData keys that backend.DataSourceInstanceSettings.HTTPClientOptions
// (grafana-plugin-sdk-go backend/http_settings.go, common.go ProxyOptions) and Grafana's data
// source auth section (@grafana/plugin-ui Auth) read, with the JSON type the SDK expects: the SDK
// panics on a string key holding another type, so a wrong type is reported here first.
type grafanaHTTP struct {
	Access                    string   `json:"access"`
	URL                       string   `json:"url"`
	BasicAuth                 bool     `json:"basicAuth"`
	BasicAuthUser             string   `json:"basicAuthUser"`
	Timeout                   *float64 `json:"timeout"` // the secure socks proxy's timeout; requests use timeoutSeconds
	DialTimeout               *float64 `json:"dialTimeout"`
	HTTPKeepAlive             *float64 `json:"httpKeepAlive"`
	HTTPTLSHandshakeTimeout   *float64 `json:"httpTLSHandshakeTimeout"`
	HTTPExpectContinueTimeout *float64 `json:"httpExpectContinueTimeout"`
	HTTPMaxConnsPerHost       *float64 `json:"httpMaxConnsPerHost"`
	HTTPMaxIdleConns          *float64 `json:"httpMaxIdleConns"`
	HTTPMaxIdleConnsPerHost   *float64 `json:"httpMaxIdleConnsPerHost"`
	HTTPIdleConnTimeout       *float64 `json:"httpIdleConnTimeout"`
	TLSAuth                   bool     `json:"tlsAuth"`
	TLSAuthWithCACert         bool     `json:"tlsAuthWithCACert"`
	TLSSkipVerify             bool     `json:"tlsSkipVerify"`
	ServerName                string   `json:"serverName"`
	EnableSecureSocksProxy    bool     `json:"enableSecureSocksProxy"`
	SecureSocksProxyUsername  string   `json:"secureSocksProxyUsername"`
	KeepAlive                 *float64 `json:"keepAlive"` // the secure socks proxy's keep-alive

	// Known, but the plugin does not implement them: accepted only when off (Grafana's auth
	// section writes oauthPassThru: false), an error when on rather than silently ignored.
	OAuthPassThru bool     `json:"oauthPassThru"`
	KeepCookies   []string `json:"keepCookies"`
	SigV4Auth     bool     `json:"sigV4Auth"`
}

// headerValue matches the secureJsonData keys of custom-header values.
var headerValue = regexp.MustCompile(`^httpHeaderValue[1-9][0-9]*$`)

// secureKeys are the secureJsonData keys (the plugin's and the SDK's): found in jsonData, they are
// named as misplaced secrets (their values are never echoed).
var secureKeys = map[string]bool{
	"basicAuthPassword": true, "password": true, "tlsCACert": true, "tlsClientCert": true, "tlsClientKey": true,
	"secureSocksProxyPassword": true, "sigV4AccessKey": true, "sigV4SecretKey": true, "sigV4SessionToken": true,
}

// SecretKeys are the plugin's own secureJsonData keys (DESIGN §3), in documentation order.
var SecretKeys = []string{SecretPredictionLogToken, SecretPrometheusToken, SecretEndpointToken, SecretSQLPassword,
	SecretFeastRegistryToken, SecretFeastOnlinePass, SecretFeastOfflinePass}

func init() {
	for _, k := range SecretKeys {
		secureKeys[k] = true
	}
}

// maxNamedKeys bounds how many unknown keys an error names.
const maxNamedKeys = 10

// headerName matches the custom-header keys of Grafana's HTTP settings (httpHeaderName1, ...).
var headerName = regexp.MustCompile(`^httpHeaderName[1-9][0-9]*$`)

// KnownKeys returns every top-level jsonData key the data source accepts, sorted (custom headers
// as the pattern httpHeaderName<N>).
func KnownKeys() []string {
	keys := append(jsonNames(reflect.TypeOf(raw{})), jsonNames(reflect.TypeOf(grafanaHTTP{}))...)
	keys = append(keys, "httpHeaderName<N>")
	sort.Strings(keys)
	return keys
}

// checkKeys reports every key of jsonData that the plugin does not know, and the Grafana HTTP
// keys with a wrong type or a feature the plugin does not implement turned on.
func checkKeys(jsonData []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(jsonData, &top); err != nil {
		return fmt.Errorf("invalid data source settings (jsonData): %w", err)
	}
	own := reflect.TypeOf(raw{})
	httpKeys := map[string]bool{}
	for _, k := range jsonNames(reflect.TypeOf(grafanaHTTP{})) {
		httpKeys[k] = true
	}
	var unknown []string
	for k, v := range top {
		switch {
		case fieldByJSONName(own, k) != nil:
			unknown = append(unknown, unknownKeys(k, v, fieldByJSONName(own, k).Type)...)
		case httpKeys[k]:
		case headerName.MatchString(k):
			var s *string
			if err := json.Unmarshal(v, &s); err != nil {
				return fmt.Errorf("%s must be a header name (a string)", k)
			}
		default:
			unknown = append(unknown, describeUnknown(k, own, httpKeys))
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		more := ""
		if len(unknown) > maxNamedKeys {
			more = fmt.Sprintf(" and %d more", len(unknown)-maxNamedKeys)
			unknown = unknown[:maxNamedKeys]
		}
		return fmt.Errorf("unknown jsonData setting %s%s: fix or remove it (a misspelt key leaves its setting unset)",
			strings.Join(unknown, ", "), more)
	}
	var h grafanaHTTP
	if err := json.Unmarshal(jsonData, &h); err != nil {
		return fmt.Errorf("invalid data source settings (jsonData): %w", err)
	}
	switch {
	case h.OAuthPassThru:
		return fmt.Errorf("oauthPassThru: forwarding the Grafana user's OAuth identity is not supported; use a token or basic auth")
	case len(h.KeepCookies) > 0:
		return fmt.Errorf("keepCookies: forwarding browser cookies is not supported")
	case h.SigV4Auth:
		return fmt.Errorf("sigV4Auth: AWS SigV4 signing is not supported")
	}
	return nil
}

// unknownKeys walks a known key's value against its Go type and names the keys below it that the
// type does not have, with their path (prometheus.urll, endpoints[1].nmae).
func unknownKeys(path string, v json.RawMessage, t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return nil // a type error, reported by the typed decoding
		}
		var out []string
		for k, sub := range obj {
			f := fieldByJSONName(t, k)
			if f == nil {
				out = append(out, describeUnknown(path+"."+k, t, nil))
				continue
			}
			out = append(out, unknownKeys(path+"."+k, sub, f.Type)...)
		}
		return out
	case reflect.Slice:
		var arr []json.RawMessage
		if json.Unmarshal(v, &arr) != nil {
			return nil
		}
		var out []string
		for i, e := range arr {
			out = append(out, unknownKeys(fmt.Sprintf("%s[%d]", path, i), e, t.Elem())...)
		}
		return out
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(v, &obj) != nil {
			return nil
		}
		var out []string
		for k, sub := range obj {
			out = append(out, unknownKeys(path+"."+k, sub, t.Elem())...)
		}
		return out
	}
	return nil
}

// describeUnknown names an unknown key, quoted, with the nearest known key of its level when it
// is a near miss.
func describeUnknown(path string, t reflect.Type, extra map[string]bool) string {
	name := path[strings.LastIndexAny(path, ".]")+1:]
	if path == name && (secureKeys[name] || headerValue.MatchString(name)) {
		return fmt.Sprintf("%q (a secret: it belongs in secureJsonData)", path)
	}
	candidates := jsonNames(t)
	for k := range extra {
		candidates = append(candidates, k)
	}
	if best := nearest(name, candidates); best != "" {
		return fmt.Sprintf("%q (did you mean %q?)", path, path[:len(path)-len(name)]+best)
	}
	return fmt.Sprintf("%q", path)
}

// nearest returns the candidate closest to name (case-insensitive Levenshtein distance at most
// 1 + len/4, so "prometeus" finds "prometheus" but "foo" finds nothing), or "".
func nearest(name string, candidates []string) string {
	sort.Strings(candidates)
	best, bestD := "", 1+len(name)/4+1
	for _, c := range candidates {
		if d := levenshtein(strings.ToLower(name), strings.ToLower(c)); d < bestD {
			best, bestD = c, d
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > 64 || len(rb) > 64 {
		return len(ra) + len(rb) // far apart; bounds the work on hostile keys
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// jsonNames lists the json names of a struct type's fields (none for other types).
func jsonNames(t reflect.Type) []string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil
	}
	var out []string
	for i := 0; i < t.NumField(); i++ {
		if n := jsonName(t.Field(i)); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func fieldByJSONName(t reflect.Type, name string) *reflect.StructField {
	for i := 0; i < t.NumField(); i++ {
		if f := t.Field(i); jsonName(f) == name {
			return &f
		}
	}
	return nil
}

func jsonName(f reflect.StructField) string {
	if !f.IsExported() {
		return ""
	}
	n := strings.Split(f.Tag.Get("json"), ",")[0]
	if n == "-" {
		return ""
	}
	if n == "" {
		return f.Name
	}
	return n
}

// blank reports whether jsonData sets nothing: no key, or only keys whose values are null, false,
// "", 0, [] or objects of such values (Grafana's auth section writes oauthPassThru: false; the
// config editor leaves predictionLog: {} behind when a URL is cleared).
func blank(jsonData []byte) bool {
	var v any
	if len(strings.TrimSpace(string(jsonData))) == 0 {
		return true
	}
	if json.Unmarshal(jsonData, &v) != nil {
		return false
	}
	return zero(v)
}

func zero(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case bool:
		return !x
	case string:
		return x == ""
	case float64:
		return x == 0
	case []any:
		return len(x) == 0
	case map[string]any:
		for _, e := range x {
			if !zero(e) {
				return false
			}
		}
		return true
	}
	return false
}
