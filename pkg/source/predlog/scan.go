package predlog

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"time"
	"unsafe"
)

// scanner walks one NDJSON line. It is a small hand-written JSON reader: it validates the grammar
// it walks over and hands out sub-slices of the line, so decoding a record allocates nothing unless
// a string carries escapes (then encoding/json decodes that one string).
type scanner struct {
	b []byte
	i int
}

// syntaxError is a JSON grammar error at a byte offset of the line.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string {
	return "invalid JSON at byte " + strconv.Itoa(e.off+1) + ": " + e.msg
}

func (s *scanner) fail(msg string) error { return &syntaxError{off: s.i, msg: msg} }

// eofOr reports the end of the line as a truncation, anything else as msg.
func (s *scanner) eofOr(msg string) error {
	if s.i >= len(s.b) {
		return s.fail("line ends early (truncated record)")
	}
	return s.fail(msg)
}

func (s *scanner) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		default:
			return
		}
	}
}

// atEnd skips spaces and reports whether the line is exhausted.
func (s *scanner) atEnd() bool {
	s.ws()
	return s.i >= len(s.b)
}

// peek returns the next non-space byte without consuming it, or 0 at the end (a NUL byte in
// the line also reads as 0; callers treat 0 as unexpected, and eofOr tells the two apart).
func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		if c := s.b[s.i]; c > ' ' {
			return c
		}
	}
	return s.peekSlow()
}

func (s *scanner) peekSlow() byte {
	s.ws()
	if s.i >= len(s.b) {
		return 0
	}
	return s.b[s.i]
}

func (s *scanner) expect(c byte) error {
	if s.peek() != c {
		return s.eofOr("expected '" + string(c) + "'")
	}
	s.i++
	return nil
}

// literal consumes one of true, false, null.
func (s *scanner) literal(word string) error {
	if len(s.b)-s.i < len(word) {
		return s.eofOr("invalid literal")
	}
	if string(s.b[s.i:s.i+len(word)]) != word {
		return s.fail("invalid literal")
	}
	s.i += len(word)
	return nil
}

// plain marks the bytes a string can hold without a closer look: not '"', '\\' or a control
// character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// special is non-zero when one of the eight bytes of w is '"', '\\' or below 0x20 (the classic
// SWAR tests for a zero byte and for a byte below n; a false positive only means a slower path).
func special(w uint64) uint64 {
	q := w ^ (ones * '"')
	bs := w ^ (ones * '\\')
	return ((q-ones) & ^q | (bs-ones) & ^bs | (w-ones*0x20) & ^w) & highs
}

// str consumes a JSON string at the current position (which must be '"') and returns its
// contents. Without escapes the result aliases the line; with escapes it is freshly decoded.
func (s *scanner) str() ([]byte, error) {
	b := s.b
	start := s.i
	i := start + 1
	// Eight bytes at a time while none of them is '"', '\\' or a control character.
	for i+8 <= len(b) {
		w := binary.LittleEndian.Uint64(b[i:])
		if special(w) != 0 {
			break
		}
		i += 8
	}
	for i < len(b) && plain[b[i]] {
		i++
	}
	if i < len(b) && b[i] == '"' {
		s.i = i + 1
		return b[start+1 : i], nil
	}
	escaped := false
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			s.i = i + 1
			if !escaped {
				return b[start+1 : i], nil
			}
			var out string
			if err := json.Unmarshal(b[start:s.i], &out); err != nil {
				return nil, &syntaxError{off: start, msg: "invalid string escape"}
			}
			return []byte(out), nil
		case c == '\\':
			escaped = true
			i += 2
		case c < 0x20:
			s.i = i
			return nil, s.fail("control character in string")
		default:
			i++
		}
	}
	s.i = len(b)
	return nil, s.fail("line ends early (truncated record)")
}

// matchKey consumes `"name"` followed by optional spaces and ':' when the line has exactly that
// at the current position (name must need no escaping: see plainKey).
func (s *scanner) matchKey(name string) bool {
	b, i := s.b, s.i
	end := i + 1 + len(name)
	if end >= len(b) || b[end] != '"' || string(b[i+1:end]) != name {
		return false
	}
	j := end + 1
	for j < len(b) && (b[j] == ' ' || b[j] == '\t') {
		j++
	}
	if j >= len(b) || b[j] != ':' {
		return false
	}
	s.i = j + 1
	return true
}

// plainKey reports whether a key is written the same raw and JSON-escaped (so matchKey applies).
func plainKey(name string) bool {
	for i := 0; i < len(name); i++ {
		if !plain[name[i]] {
			return false
		}
	}
	return true
}

// number consumes a JSON number token and returns its bytes.
func (s *scanner) number() ([]byte, error) {
	start := s.i
	b := s.b
	i := s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		s.i = i
		return nil, s.eofOr("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.eofOr("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			s.i = i
			return nil, s.eofOr("invalid number")
		}
	}
	s.i = i
	return b[start:i], nil
}

// float consumes a JSON number token and returns its value together with its bytes, validating
// the grammar and accumulating the decimal mantissa in the same pass. Values whose decimal
// mantissa m is at most 2^53 (exact in a float64) and whose decimal exponent e is within ±22
// (10^|e| exact too) are computed as m·10^e or m/10^-e: one correctly rounded operation on exact
// operands, the same result strconv gives (Clinger's fast path). The rest are parsed by
// strconv.ParseFloat. Out-of-range values are ±Inf.
func (s *scanner) float() (float64, []byte, error) {
	b := s.b
	start := s.i
	i := start
	neg := false
	if i < len(b) && b[i] == '-' {
		neg = true
		i++
	}
	var mant uint64
	digits, exp := 0, 0
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		// Up to 19 digits fit in the uint64 mantissa; further ones only scale it.
		j, lim := i, min(len(b), i+19)
		for j < lim && b[j]-'0' <= 9 {
			mant = mant*10 + uint64(b[j]-'0')
			j++
		}
		digits = j - i
		for j < len(b) && b[j]-'0' <= 9 {
			exp++
			digits++
			j++
		}
		i = j
	default:
		s.i = i
		return 0, nil, s.eofOr("invalid number")
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		if mant == 0 {
			for i < len(b) && b[i] == '0' { // leading zeros only scale
				exp--
				i++
			}
		}
		j, lim := i, min(len(b), i+19-digits)
		for j < lim && b[j]-'0' <= 9 {
			mant = mant*10 + uint64(b[j]-'0')
			j++
		}
		exp -= j - i
		digits += j - i
		for j < len(b) && b[j]-'0' <= 9 {
			digits++
			j++
		}
		i = j
		if i == d {
			s.i = i
			return 0, nil, s.eofOr("invalid number")
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		d := i
		e := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if e < 100000 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if i == d {
			s.i = i
			return 0, nil, s.eofOr("invalid number")
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	s.i = i
	tok := b[start:i]
	if mant <= 1<<53 && digits <= 19 && exp >= -22 && exp <= 22 {
		f := float64(mant)
		if exp >= 0 {
			f *= pow10[exp]
		} else {
			f /= pow10[-exp]
		}
		if neg {
			f = -f
		}
		return f, tok, nil
	}
	f, _ := slowFloat(tok) // the grammar is valid, so only a range error is possible (±Inf)
	return f, tok, nil
}

// maxDepth bounds the nesting of skipped values so that a hostile line cannot exhaust the stack.
const maxDepth = 256

// skip consumes any JSON value.
func (s *scanner) skip(depth int) error {
	if depth > maxDepth {
		return s.fail("nesting too deep")
	}
	switch c := s.peek(); c {
	case '"':
		_, err := s.str()
		return err
	case '{':
		s.i++
		if s.peek() == '}' {
			s.i++
			return nil
		}
		for {
			if s.peek() != '"' {
				return s.eofOr("expected object key")
			}
			if _, err := s.str(); err != nil {
				return err
			}
			if err := s.expect(':'); err != nil {
				return err
			}
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case '}':
				s.i++
				return nil
			default:
				return s.eofOr("expected ',' or '}'")
			}
		}
	case '[':
		s.i++
		if s.peek() == ']' {
			s.i++
			return nil
		}
		for {
			if err := s.skip(depth + 1); err != nil {
				return err
			}
			switch s.peek() {
			case ',':
				s.i++
			case ']':
				s.i++
				return nil
			default:
				return s.eofOr("expected ',' or ']'")
			}
		}
	case 't':
		return s.literal("true")
	case 'f':
		return s.literal("false")
	case 'n':
		return s.literal("null")
	default:
		if c == '-' || (c >= '0' && c <= '9') {
			_, err := s.number()
			return err
		}
		return s.eofOr("unexpected character")
	}
}

// pow10 holds the powers of ten that float64 represents exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// parseFloat converts a decimal number (JSON grammar, or the looser grammar strconv accepts inside
// a string) to float64, correctly rounded, with the fast path of scanner.float for mantissas up to
// 2^53 and exponents within ±22; the rest go through strconv.ParseFloat. ok is false when b is not
// a number.
func parseFloat(b []byte) (v float64, ok bool) {
	i := 0
	neg := false
	if i < len(b) && (b[i] == '-' || b[i] == '+') {
		neg = b[i] == '-'
		i++
	}
	var mant uint64
	digits, exp := 0, 0
	sawDigit := false
	for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
		sawDigit = true
		if mant == 0 && b[i] == '0' {
			continue
		}
		if digits < 19 {
			mant = mant*10 + uint64(b[i]-'0')
		} else {
			exp++
		}
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			sawDigit = true
			if mant == 0 && b[i] == '0' {
				exp--
				continue
			}
			if digits < 19 {
				mant = mant*10 + uint64(b[i]-'0')
				exp--
			}
			digits++
		}
	}
	if !sawDigit {
		return slowFloat(b)
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		eneg := false
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			eneg = b[i] == '-'
			i++
		}
		if i >= len(b) {
			return 0, false
		}
		e := 0
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if e < 100000 {
				e = e*10 + int(b[i]-'0')
			}
		}
		if eneg {
			e = -e
		}
		exp += e
	}
	if i != len(b) {
		return slowFloat(b)
	}
	if mant <= 1<<53 && digits <= 19 && exp >= -22 && exp <= 22 {
		f := float64(mant)
		if exp >= 0 {
			f *= pow10[exp]
		} else {
			f /= pow10[-exp]
		}
		if neg {
			f = -f
		}
		return f, true
	}
	return slowFloat(b)
}

// slowFloat is strconv.ParseFloat without copying b. The error (which would alias b) is dropped.
// Out-of-range values come back as ±Inf with ok true; callers treat non-finite values as null.
func slowFloat(b []byte) (float64, bool) {
	if len(b) == 0 {
		return 0, false
	}
	v, err := strconv.ParseFloat(unsafe.String(&b[0], len(b)), 64)
	if err != nil {
		var ne *strconv.NumError
		if errors.As(err, &ne) && ne.Err == strconv.ErrRange {
			return v, true
		}
		return 0, false
	}
	return v, true
}

// Years for which Unix nanoseconds fit in an int64 with room to spare.
const (
	minYear = 1678
	maxYear = 2261
)

var errTimeRange = errors.New("timestamp out of range (years 1678-2261)")

// parseTimestamp parses an RFC 3339 timestamp (with optional fraction and a Z or ±hh:mm offset)
// into Unix nanoseconds. The common shape is parsed by hand; anything else goes through
// time.Parse(time.RFC3339Nano, ...), so the accepted language is exactly time.Parse's.
func parseTimestamp(b []byte) (int64, error) {
	if ns, ok := fastTimestamp(b); ok {
		return ns, nil
	}
	t, err := time.Parse(time.RFC3339Nano, string(b))
	if err != nil {
		return 0, errors.New("invalid RFC 3339 timestamp")
	}
	if y := t.Year(); y < minYear || y > maxYear {
		return 0, errTimeRange
	}
	return t.UnixNano(), nil
}

func d2(b []byte) (int, bool) {
	a, c := b[0]-'0', b[1]-'0'
	if a > 9 || c > 9 {
		return 0, false
	}
	return int(a)*10 + int(c), true
}

// fastTimestamp handles YYYY-MM-DDTHH:MM:SS[.f{1,9}](Z|±HH:MM) for years 1900-2199.
func fastTimestamp(b []byte) (int64, bool) {
	if len(b) < 20 || b[4] != '-' || b[7] != '-' || b[10] != 'T' || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	y1, ok1 := d2(b[0:2])
	y2, ok2 := d2(b[2:4])
	mo, ok3 := d2(b[5:7])
	dd, ok4 := d2(b[8:10])
	hh, ok5 := d2(b[11:13])
	mi, ok6 := d2(b[14:16])
	ss, ok7 := d2(b[17:19])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) {
		return 0, false
	}
	year := y1*100 + y2
	if year < 1900 || year > 2199 || mo < 1 || mo > 12 || dd < 1 || dd > daysIn(year, mo) || hh > 23 || mi > 59 || ss > 59 {
		return 0, false
	}
	i := 19
	var nanos int64
	if b[i] == '.' {
		i++
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			if n == 9 {
				return 0, false
			}
			nanos = nanos*10 + int64(b[i]-'0')
			n++
			i++
		}
		if n == 0 {
			return 0, false
		}
		for ; n < 9; n++ {
			nanos *= 10
		}
	}
	if i >= len(b) {
		return 0, false
	}
	offset := 0
	switch b[i] {
	case 'Z':
		i++
	case '+', '-':
		if len(b)-i != 6 || b[i+3] != ':' {
			return 0, false
		}
		oh, okh := d2(b[i+1 : i+3])
		om, okm := d2(b[i+4 : i+6])
		if !okh || !okm || oh > 23 || om > 59 {
			return 0, false
		}
		offset = oh*3600 + om*60
		if b[i] == '-' {
			offset = -offset
		}
		i += 6
	default:
		return 0, false
	}
	if i != len(b) {
		return 0, false
	}
	secs := daysFromCivil(year, mo, dd)*86400 + int64(hh*3600+mi*60+ss-offset)
	return secs*1e9 + nanos, true
}

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// daysFromCivil returns the number of days since 1970-01-01 of a proleptic Gregorian date
// (H. Hinnant's algorithm).
func daysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// finite maps NaN and ±Inf to NaN (null).
func finite(v float64) float64 {
	if math.IsInf(v, 0) {
		return math.NaN()
	}
	return v
}
