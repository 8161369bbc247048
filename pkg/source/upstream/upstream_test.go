package upstream

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestStatusText(t *testing.T) {
	require.Equal(t, "404 Not Found", StatusText(404))
	require.Equal(t, "HTTP 599", StatusText(599))
}

func TestBodyExcerpt(t *testing.T) {
	cases := map[string]string{
		`{"error": "unknown model \"x\""}`:                                           `unknown model "x"`,
		`{"error": {"code": 3, "message": "bad range"}}`:                             "bad range",
		`{"message": "quota"}`:                                                       "quota",
		`{"detail": "Not authenticated"}`:                                            "Not authenticated",
		"<html><head><TITLE>502 Bad Gateway</TITLE></head><body>nginx</body></html>": "502 Bad Gateway",
		"  plain\n\ttext\x00 body  ":                                                 "plain text body",
		strings.Repeat("x", 300):                                                     strings.Repeat("x", 200) + "…",
		"":                                                                           "",
	}
	for in, want := range cases {
		require.Equal(t, want, BodyExcerpt(strings.NewReader(in)), in)
	}
	// Reads at most MaxErrorBody bytes of an endless body.
	require.Len(t, []rune(BodyExcerpt(io.LimitReader(zeros{}, 1<<30))), 0)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { return len(p), nil }

func TestRedact(t *testing.T) {
	base := errors.New("GET http://h/?token=s3cret failed: s3cret rejected")
	err := Redact(base, "s3cret")
	require.Equal(t, "GET http://h/?token=[redacted] failed: [redacted] rejected", err.Error())
	require.ErrorIs(t, err, base)
	require.Nil(t, Redact(nil, "s3cret"))
	require.Same(t, base, Redact(base, ""))
}
