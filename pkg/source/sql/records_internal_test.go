package sql

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// jsonString must give exactly what json.Unmarshal gives for every literal (the Prediction Log
// path decodes strings with encoding/json): the plain-bytes shortcut may only be taken where the
// two agree.
func FuzzJSONString(f *testing.F) {
	for _, s := range []string{
		`"a"`, `""`, `"US"`, `"naïve"`, `"日本"`, `"a\"b"`, `"a\\b"`, `"\u00e9"`, `"\ud83d\ude00"`, `"\ud800"`,
		"\"\xff\xfe\"", "\"a\xc3\"", "\"tab\there\"", `"a`, `"`, `"a"b"`, `"1e400"`, `"0x10"`, `"\/"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, lit []byte) {
		if len(lit) == 0 || lit[0] != '"' {
			return // value() calls jsonString only for a literal that starts with a quote
		}
		var want string
		wantErr := json.Unmarshal(lit, &want)
		got, valid := jsonString(lit)
		require.Equal(t, wantErr == nil, valid, "%q", lit)
		if valid {
			require.Equal(t, want, string(got), "%q", lit)
		}
	})
}
