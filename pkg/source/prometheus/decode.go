package prometheus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unsafe"

	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
)

// Matrix answers (range queries, range-vector instant queries) carry every sample of every bucket
// series: for a day at 15 s steps over ten 12-bucket histograms that is 700,000 samples. The
// client_golang API decodes them in three passes with an allocation per sample; decodeMatrix
// reads the Prometheus HTTP API envelope in one pass with no allocation per sample. Every other
// call goes through client_golang. The request and error handling follow client_golang's
// (POST form, GET on 403/405/501, the same v1.Error types), so errors look the same either way.

// queryMatrix runs a range query (ep = /api/v1/query_range) or an instant query
// (ep = /api/v1/query) whose answer must be a matrix.
func (s *Source) queryMatrix(ctx context.Context, ep string, args url.Values, sizeHint int) (model.Matrix, v1.Warnings, error) {
	u := s.raw.URL(ep, nil)
	enc := args.Encode()
	req, err := http.NewRequest(http.MethodPost, u.String(), strings.NewReader(enc))
	if err != nil {
		return nil, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, body, err := s.raw.Do(ctx, req)
	if err == nil && (resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusMethodNotAllowed || resp.StatusCode == http.StatusNotImplemented) {
		u.RawQuery = enc
		if req, err = http.NewRequest(http.MethodGet, u.String(), nil); err != nil {
			return nil, nil, err
		}
		resp, body, err = s.raw.Do(ctx, req)
	}
	if err != nil {
		return nil, nil, err
	}
	code := resp.StatusCode
	if code/100 != 2 && code != http.StatusBadRequest && code != http.StatusUnprocessableEntity {
		typ, msg := v1.ErrBadResponse, fmt.Sprintf("bad response code %d", code)
		switch code / 100 {
		case 4:
			typ, msg = v1.ErrClient, fmt.Sprintf("client error: %d", code)
		case 5:
			typ, msg = v1.ErrServer, fmt.Sprintf("server error: %d", code)
		}
		return nil, nil, &v1.Error{Type: typ, Msg: msg, Detail: string(body)}
	}
	m, ws, apiErr, err := decodeMatrix(body, sizeHint)
	if err != nil {
		return nil, nil, &v1.Error{Type: v1.ErrBadResponse, Msg: err.Error()}
	}
	if apiErr != nil {
		return nil, ws, apiErr
	}
	if code/100 != 2 {
		return nil, ws, &v1.Error{Type: v1.ErrBadResponse, Msg: "inconsistent body for response code"}
	}
	return m, ws, nil
}

func formatTime(t time.Time) string {
	return strconv.FormatFloat(float64(t.Unix())+float64(t.Nanosecond())/1e9, 'f', -1, 64)
}

// errNotMatrix means a successful answer of another result type.
var errNotMatrix = errors.New("the answer is not a matrix")

// decodeMatrix reads {"status","data":{"resultType":"matrix","result":[...]},"errorType","error",
// "warnings"}. apiErr is set for status "error"; err for a body that is not such an envelope.
// sizeHint is the expected number of samples per series (0 when unknown).
func decodeMatrix(body []byte, sizeHint int) (m model.Matrix, warnings v1.Warnings, apiErr *v1.Error, err error) {
	d := &dec{b: body}
	var status, errType, errMsg string
	err = d.object(func(key []byte) error {
		switch string(key) {
		case "status":
			status, err = d.str()
			return err
		case "errorType":
			errType, err = d.str()
			return err
		case "error":
			errMsg, err = d.str()
			return err
		case "warnings":
			return d.array(func() error {
				w, err := d.str()
				warnings = append(warnings, w)
				return err
			})
		case "data":
			if d.null() {
				return nil
			}
			return d.object(func(key []byte) error {
				switch string(key) {
				case "resultType":
					rt, err := d.str()
					if err == nil && rt != "matrix" {
						return fmt.Errorf("%w (%s)", errNotMatrix, rt)
					}
					return err
				case "result":
					m, err = d.matrix(sizeHint)
					return err
				}
				return d.skip()
			})
		}
		return d.skip()
	})
	if err == nil {
		if d.ws(); d.i != len(d.b) {
			err = d.errorf("data after the answer")
		}
	}
	if status == "error" {
		return nil, warnings, &v1.Error{Type: v1.ErrorType(errType), Msg: errMsg}, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if status != "success" {
		return nil, nil, nil, fmt.Errorf("unknown status %q", status)
	}
	return m, warnings, nil, nil
}

// dec is a minimal JSON reader for the Prometheus API envelope.
type dec struct {
	b []byte
	i int
}

func (d *dec) errorf(format string, a ...any) error {
	return fmt.Errorf("invalid JSON at offset %d: %s", d.i, fmt.Sprintf(format, a...))
}

func (d *dec) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *dec) peek() byte {
	d.ws()
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *dec) expect(c byte) error {
	if d.peek() != c {
		return d.errorf("expected %q", c)
	}
	d.i++
	return nil
}

func (d *dec) null() bool {
	if d.peek() == 'n' && d.i+4 <= len(d.b) && string(d.b[d.i:d.i+4]) == "null" {
		d.i += 4
		return true
	}
	return false
}

// object calls field for each key, positioned at the value, which field must consume.
func (d *dec) object(field func(key []byte) error) error {
	if err := d.expect('{'); err != nil {
		return err
	}
	if d.peek() == '}' {
		d.i++
		return nil
	}
	for {
		key, err := d.rawStr()
		if err != nil {
			return err
		}
		if err := d.expect(':'); err != nil {
			return err
		}
		if err := field(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case '}':
			d.i++
			return nil
		default:
			return d.errorf("expected , or }")
		}
	}
}

// array calls elem for each element, positioned at it, which elem must consume.
func (d *dec) array(elem func() error) error {
	if d.null() {
		return nil
	}
	if err := d.expect('['); err != nil {
		return err
	}
	if d.peek() == ']' {
		d.i++
		return nil
	}
	for {
		if err := elem(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.i++
		case ']':
			d.i++
			return nil
		default:
			return d.errorf("expected , or ]")
		}
	}
}

// rawStr returns the bytes of a string without escapes, or its decoded copy when it has some.
func (d *dec) rawStr() ([]byte, error) {
	if err := d.expect('"'); err != nil {
		return nil, err
	}
	start := d.i
	escaped := false
	for d.i < len(d.b) {
		switch c := d.b[d.i]; {
		case c == '"':
			raw := d.b[start:d.i]
			d.i++
			if !escaped {
				return raw, nil
			}
			var s string
			if err := json.Unmarshal(d.b[start-1:d.i], &s); err != nil {
				return nil, d.errorf("bad string: %v", err)
			}
			return []byte(s), nil
		case c == '\\':
			escaped = true
			d.i += 2
		case c < 0x20:
			return nil, d.errorf("control character in string")
		default:
			d.i++
		}
	}
	return nil, d.errorf("unterminated string")
}

func (d *dec) str() (string, error) {
	b, err := d.rawStr()
	return string(b), err
}

// skip consumes one value of any type.
func (d *dec) skip() error {
	switch c := d.peek(); {
	case c == '"':
		_, err := d.rawStr()
		return err
	case c == '{':
		return d.object(func([]byte) error { return d.skip() })
	case c == '[':
		return d.array(d.skip)
	case c == 0:
		return d.errorf("unexpected end")
	default: // number, true, false, null
		start := d.i
		for d.i < len(d.b) && strings.IndexByte(",]} \t\n\r", d.b[d.i]) < 0 {
			d.i++
		}
		if d.i == start {
			return d.errorf("unexpected %q", c)
		}
		return nil
	}
}

func (d *dec) matrix(sizeHint int) (model.Matrix, error) {
	var m model.Matrix
	err := d.array(func() error {
		ss := &model.SampleStream{}
		err := d.object(func(key []byte) error {
			switch string(key) {
			case "metric":
				ss.Metric = model.Metric{}
				return d.object(func(name []byte) error {
					v, err := d.str()
					ss.Metric[model.LabelName(name)] = model.LabelValue(v)
					return err
				})
			case "values":
				if sizeHint > 0 {
					ss.Values = make([]model.SamplePair, 0, sizeHint)
				}
				return d.array(func() error {
					sp, err := d.pair()
					ss.Values = append(ss.Values, sp)
					return err
				})
			}
			return d.skip() // native histograms ("histograms") are not read
		})
		m = append(m, ss)
		return err
	})
	return m, err
}

// pair reads [<unix seconds>, "<value>"].
func (d *dec) pair() (model.SamplePair, error) {
	var sp model.SamplePair
	if err := d.expect('['); err != nil {
		return sp, err
	}
	d.ws()
	start := d.i
scan:
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ',', ']', ' ', '\t', '\n', '\r':
			break scan
		}
		d.i++
	}
	ts, err := parseSeconds(d.b[start:d.i])
	if err != nil {
		return sp, d.errorf("bad timestamp: %v", err)
	}
	if err := d.expect(','); err != nil {
		return sp, err
	}
	raw, err := d.rawStr()
	if err != nil {
		return sp, err
	}
	v, err := parseValue(raw)
	if err != nil {
		return sp, d.errorf("bad sample value %q", raw)
	}
	if err := d.expect(']'); err != nil {
		return sp, err
	}
	sp.Timestamp, sp.Value = ts, model.SampleValue(v)
	return sp, nil
}

// parseSeconds reads a Unix time in seconds ("1795219200", "1795219200.123") as model.Time the
// way model.Time's JSON decoding does (fraction digits past the millisecond are dropped); other
// forms (exponents, signs) go through ParseFloat and are rounded to the millisecond.
func parseSeconds(b []byte) (model.Time, error) {
	var sec, ms int64
	i, n := 0, len(b)
	for i < n && i < 15 && b[i] >= '0' && b[i] <= '9' {
		sec = sec*10 + int64(b[i]-'0')
		i++
	}
	if i > 0 && i < 15 {
		if i == n {
			return model.Time(sec * 1000), nil
		}
		if b[i] == '.' && i+1 < n {
			scale := int64(100)
			j := i + 1
			for ; j < n && b[j] >= '0' && b[j] <= '9'; j++ {
				ms += int64(b[j]-'0') * scale
				scale /= 10
			}
			if j == n {
				return model.Time(sec*1000 + ms), nil
			}
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return 0, err
	}
	if math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > 1e15 {
		return 0, fmt.Errorf("timestamp %v out of range", f)
	}
	return model.Time(math.Round(f * 1000)), nil
}

// parseValue is strconv.ParseFloat on the bytes of a sample value ("NaN", "+Inf" included) without
// copying them: the string does not outlive the call (a parse error is reported without it).
func parseValue(b []byte) (float64, error) {
	if len(b) == 0 {
		return 0, errors.New("empty value")
	}
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		return 0, errors.New("not a number")
	}
	return v, nil
}
