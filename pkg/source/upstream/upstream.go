// Package upstream is what every HTTP connector (Prediction Log, Prometheus, model endpoints) uses
// to talk to its upstream: one client constructor (NewClient, on the SDK's httpclient) that sends
// the bearer token, limits response sizes, refuses redirects to another origin and turns 429 into
// a "busy, retry after" error; one classifier of transport failures (Classify); and the Redactor
// that keeps secrets, whole or in part, out of every message.
package upstream

import (
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// StatusText is "404 Not Found", or "HTTP 599" for a code without a standard text.
func StatusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return strconv.Itoa(code) + " " + t
	}
	return "HTTP " + strconv.Itoa(code)
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
