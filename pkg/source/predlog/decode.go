package predlog

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"
)

// maxLineBytes bounds one NDJSON record; a longer line is an error rather than unbounded memory.
const maxLineBytes = limits.NDJSONLine

// decodeOptions says how to read one NDJSON stream of prediction records (DESIGN §6).
type decodeOptions struct {
	// model gives the column kinds; records of another model are an error.
	model *source.Model
	// limit stops decoding once limit records have been kept and one more is seen (the batch is
	// then marked Truncated); 0 means no limit.
	limit int
	// When window is set only records with start < ts <= end are kept.
	window     bool
	start, end int64
	// version, when set, keeps only the records of that version.
	version string
	// sizeHint is the expected body size (Content-Length) or 0; with it the columns are sized
	// once from the length of the first record instead of growing by doubling.
	sizeHint int64
	// reference reads a reference sample: records need no "ts" (training data has no times),
	// records without a version are kept when a version is asked for, and the order is kept.
	reference bool
	// sample, when > 0, keeps a deterministic uniform sample of at most sample records
	// (source.Reservoir): memory follows the sample, not the stream.
	sample int
}

// LineError is a malformed record: Line is 1-based.
type LineError struct {
	Line int
	Err  error
}

func (e *LineError) Error() string { return "line " + strconv.Itoa(e.Line) + ": " + e.Err.Error() }
func (e *LineError) Unwrap() error { return e.Err }

// slot holds one variable's value of the record being decoded and the column it goes to.
type slot struct {
	col *source.Column
	cat bool
	// intern maps categorical values to codes in col.Dict (lookups with a []byte key do not
	// allocate).
	intern map[string]int32
	// mark is len(col.Dict) when the record started, so a dropped record's new categories can be
	// rolled back.
	mark int

	num  float64
	code int32
	set  bool
	// bad is true when the value had the wrong JSON type for the variable (source.Column.Mismatch).
	bad bool
}

func newSlot(kind source.Kind, capacity int) *slot {
	if kind == source.Categorical {
		return &slot{col: source.NewColumn(source.Categorical, capacity), cat: true, intern: map[string]int32{}}
	}
	return &slot{col: source.NewColumn(source.Numeric, capacity)}
}

func (s *slot) reset() {
	s.set, s.bad = false, false
	if s.cat {
		s.mark = len(s.col.Dict)
	}
}

func (s *slot) internBytes(v []byte) (int32, error) {
	// Most categorical variables have a handful of values: a linear scan beats hashing.
	if d := s.col.Dict; len(d) <= 8 {
		for i, x := range d {
			if x == string(v) {
				return int32(i), nil // #nosec G115 -- i < 8
			}
		}
		return s.internString(string(v))
	}
	if c, ok := s.intern[string(v)]; ok {
		return c, nil
	}
	return s.internString(string(v))
}

// internString returns v's code, adding it to the dictionary when new; source.ErrTooManyValues
// when the dictionary already holds limits.MaxDistinctValues values.
func (s *slot) internString(v string) (int32, error) {
	if c, ok := s.intern[v]; ok {
		return c, nil
	}
	c, err := source.NextCode(len(s.col.Dict))
	if err != nil {
		return 0, err
	}
	s.col.Dict = append(s.col.Dict, v)
	s.intern[v] = c
	return c, nil
}

// rollback forgets the categories first seen in a dropped record.
func (s *slot) rollback() {
	if !s.cat {
		return
	}
	for _, v := range s.col.Dict[s.mark:] {
		delete(s.intern, v)
	}
	s.col.Dict = s.col.Dict[:s.mark]
}

// commitAt writes the slot's value over record i.
func (s *slot) commitAt(i int) {
	if s.bad || s.col.Mismatch != nil {
		s.col.MarkMismatch(i, s.bad)
	}
	if s.cat {
		c := int32(-1)
		if s.set {
			c = s.code
		}
		s.col.Cat[i] = c
		return
	}
	v := math.NaN()
	if s.set {
		v = s.num
	}
	s.col.Num[i] = v
}

func (s *slot) commit() {
	if s.cat {
		if s.set {
			s.col.Cat = append(s.col.Cat, s.code)
		} else {
			s.col.Cat = append(s.col.Cat, -1)
		}
	} else if s.set {
		s.col.Num = append(s.col.Num, s.num)
	} else {
		s.col.Num = append(s.col.Num, math.NaN())
	}
	if s.bad || s.col.Mismatch != nil {
		s.col.MarkMismatch(s.col.Len()-1, s.bad)
	}
}

// decoder turns NDJSON prediction records into a columnar source.Batch in one pass.
type decoder struct {
	opt   decodeOptions
	batch *source.Batch
	line  int
	sc    scanner

	features  []*slot
	featIndex map[string]int
	// featOrder[pos] is the feature found at position pos of the previous record's features
	// object (-1: none or undeclared): records usually list features in the same order, so a
	// prefix comparison usually replaces scanning the key and the map lookup.
	featOrder []int
	// featKey says whether feature i's name can be matched as raw bytes (no escapes needed).
	featKey []bool
	// order is the top-level key order of the previous record.
	order [16]int

	pred    *slot
	label   *slot
	latency *slot
	score   *slot

	versionIntern map[string]int32
	versionMark   int

	// the record being decoded
	ts      int64
	hasTS   bool
	version int32
	isError bool

	labelTS    int64
	hasLabelTS bool
	labelTSCol []int64

	lastTS     int64
	outOfOrder bool
	// rises and falls count the times a kept record's ts is above or below the previous one's
	// (to tell an ascending answer from a descending one).
	rises, falls int

	res *source.Reservoir
}

func kindOf(k source.Kind) source.Kind {
	if k == source.Categorical {
		return source.Categorical
	}
	return source.Numeric
}

func newDecoder(opt decodeOptions, capacity int) *decoder {
	m := opt.model
	d := &decoder{
		opt:           opt,
		featIndex:     make(map[string]int, len(m.Features)),
		versionIntern: map[string]int32{},
		batch: &source.Batch{
			Model:        m.Name,
			TS:           make([]int64, 0, capacity),
			Version:      make([]int32, 0, capacity),
			Error:        make([]bool, 0, capacity),
			FeatureNames: make([]string, 0, len(m.Features)),
			Features:     make(map[string]*source.Column, len(m.Features)),
		},
		pred:    newSlot(kindOf(m.Prediction.Type), capacity),
		label:   newSlot(kindOf(m.Prediction.Type), capacity),
		latency: newSlot(source.Numeric, capacity),
		score:   newSlot(source.Numeric, capacity),
		lastTS:  math.MinInt64,
	}
	d.labelTSCol = make([]int64, 0, capacity)
	if opt.sample > 0 {
		d.res = source.NewReservoir(opt.sample)
	}
	for _, f := range m.Features {
		if _, dup := d.featIndex[f.Name]; dup {
			continue
		}
		s := newSlot(kindOf(f.Type), capacity)
		d.featIndex[f.Name] = len(d.features)
		d.features = append(d.features, s)
		d.featKey = append(d.featKey, plainKey(f.Name))
		d.batch.FeatureNames = append(d.batch.FeatureNames, f.Name)
		d.batch.Features[f.Name] = s.col
	}
	d.featOrder = make([]int, len(d.features)+8)
	for i := range d.featOrder {
		d.featOrder[i] = -1
	}
	d.batch.Prediction = d.pred.col
	d.batch.Label = d.label.col
	return d
}

// finish hands out the batch: the latency and score columns are plain slices in a Batch.
func (d *decoder) finish() *source.Batch {
	b := d.batch
	b.LatencyMs = d.latency.col.Num
	b.Score = d.score.col.Num
	b.LabelTS = d.labelTSCol
	if d.res != nil && d.res.Seen() > int64(b.Len()) {
		b.SampledFrom = d.res.Seen()
	}
	if d.outOfOrder {
		sortBatch(b)
	}
	return b
}

// decodeNDJSON reads prediction records from r until EOF, or until the limit is exceeded.
func decodeNDJSON(r io.Reader, opt decodeOptions) (*source.Batch, error) {
	d, err := decodeStream(r, opt)
	if err != nil {
		return nil, err
	}
	return d.finish(), nil
}

// decodeStream is decodeNDJSON returning the decoder (its finish hands out the batch).
func decodeStream(r io.Reader, opt decodeOptions) (*decoder, error) {
	capacity := 1024
	if opt.limit > 0 && opt.limit < capacity {
		capacity = opt.limit
	}
	d := newDecoder(opt, capacity)
	br := bufio.NewReaderSize(r, 256<<10)
	var long []byte
	for {
		line, err := br.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long[:0], line...)
			for errors.Is(err, bufio.ErrBufferFull) {
				line, err = br.ReadSlice('\n')
				long = append(long, line...)
				if len(long) > maxLineBytes {
					return nil, &LineError{Line: d.line + 1, Err: fmt.Errorf("record longer than %d bytes", maxLineBytes)}
				}
			}
			line = long
		}
		if len(line) > 0 {
			if d.line == 0 && opt.sizeHint > 0 {
				d.reserve(opt.sizeHint / int64(len(line)))
			}
			d.line++
			stop, lerr := d.record(line)
			if lerr != nil {
				if err != nil && !errors.Is(err, io.EOF) {
					// The body broke off mid-line: report the transport error, not the half line.
					return nil, err
				}
				return nil, &LineError{Line: d.line, Err: lerr}
			}
			if stop {
				return d, nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return d, nil
			}
			return nil, err
		}
	}
}

// reserve sizes the columns for about n records (plus a margin, since line lengths vary).
func (d *decoder) reserve(n int64) {
	n += n/8 + 16
	if d.opt.limit > 0 && n > int64(d.opt.limit)+1 {
		n = int64(d.opt.limit) + 1
	}
	if d.opt.sample > 0 && n > int64(d.opt.sample) {
		n = int64(d.opt.sample)
	}
	if n > 1<<21 {
		n = 1 << 21 // a wrong guess must not reserve gigabytes; beyond this the columns grow
	}
	if n <= int64(cap(d.batch.TS)) {
		return
	}
	b := d.batch
	b.TS = make([]int64, 0, n)
	b.Version = make([]int32, 0, n)
	b.Error = make([]bool, 0, n)
	d.labelTSCol = make([]int64, 0, n)
	for _, s := range append([]*slot{d.pred, d.label, d.latency, d.score}, d.features...) {
		if s.cat {
			s.col.Cat = make([]int32, 0, n)
		} else {
			s.col.Num = make([]float64, 0, n)
		}
	}
}

// record decodes one line. stop is true when the limit has been exceeded.
func (d *decoder) record(line []byte) (stop bool, err error) {
	if n := len(line); n > 0 && line[n-1] == '\n' {
		line = line[:n-1]
	}
	d.sc = scanner{b: line}
	sc := &d.sc
	if sc.atEnd() {
		return false, nil // blank line
	}
	d.hasTS = false
	d.hasLabelTS = false
	d.version = -1
	d.isError = false
	d.versionMark = len(d.batch.Versions)
	for _, s := range d.features {
		s.reset()
	}
	d.pred.reset()
	d.label.reset()
	d.latency.reset()
	d.score.reset()

	if err := d.object(); err != nil {
		d.rollback()
		return false, err
	}
	if !sc.atEnd() {
		d.rollback()
		return false, sc.fail("unexpected data after the record")
	}
	if !d.hasTS {
		if !d.opt.reference {
			d.rollback()
			return false, errors.New(`record has no "ts"`)
		}
		d.ts = 0
	}
	if d.version < 0 {
		v, err := d.internVersion(nil)
		if err != nil {
			d.rollback()
			return false, err
		}
		d.version = v
	}
	keep := true
	if d.opt.window && (d.ts <= d.opt.start || d.ts > d.opt.end) {
		keep = false
	}
	if keep && d.opt.version != "" {
		v := d.batch.Versions[d.version]
		// A reference record without a version is part of the sample the API answered for the
		// version asked; a record of another version never is.
		keep = v == d.opt.version || (d.opt.reference && v == "")
	}
	if !keep {
		d.rollback()
		return false, nil
	}
	if d.opt.limit > 0 && len(d.batch.TS) >= d.opt.limit {
		d.rollback()
		d.batch.Truncated = true
		return true, nil
	}
	if d.res != nil {
		switch slot := d.res.Next(); {
		case slot < 0:
			d.rollback()
			return false, nil
		case slot < len(d.batch.TS):
			d.replace(slot)
			return false, nil
		}
	}
	d.commit()
	return false, nil
}

// replace puts the record being decoded in place of record i (reservoir sampling), then bounds
// the dictionaries: categories and versions only the replaced records used are dropped once they
// outnumber the sample, so memory follows the sample whatever the stream holds.
func (d *decoder) replace(i int) {
	b := d.batch
	b.TS[i] = d.ts
	b.Version[i] = d.version
	b.Error[i] = d.isError
	lt := source.NoTime
	if d.hasLabelTS {
		lt = d.labelTS
	}
	d.labelTSCol[i] = lt
	for _, s := range d.features {
		s.commitAt(i)
	}
	d.pred.commitAt(i)
	d.label.commitAt(i)
	d.latency.commitAt(i)
	d.score.commitAt(i)
	bound := 2*d.opt.sample + 64
	for _, s := range append([]*slot{d.pred, d.label}, d.features...) {
		if s.cat && len(s.col.Dict) > bound {
			s.compact()
		}
	}
	if len(b.Versions) > bound {
		d.compactVersions()
	}
}

// compactVersions drops the versions no kept record uses.
func (d *decoder) compactVersions() {
	b := d.batch
	b.Versions, d.versionIntern = compactDict(b.Versions, b.Version)
}

// compact drops the categories no kept record uses.
func (s *slot) compact() {
	s.col.Dict, s.intern = compactDict(s.col.Dict, s.col.Cat)
}

// compactDict keeps the entries of dict that codes use, rewriting codes (-1 stays -1), and
// returns the new dictionary and its index.
func compactDict(dict []string, codes []int32) ([]string, map[string]int32) {
	remap := make([]int32, len(dict))
	for i := range remap {
		remap[i] = -1
	}
	var out []string
	index := map[string]int32{}
	for i, c := range codes {
		if c < 0 || int(c) >= len(dict) {
			continue
		}
		if remap[c] < 0 {
			remap[c] = int32(len(out)) // #nosec G115 -- len(out) ≤ len(dict) ≤ limits.MaxDistinctValues (2^24)
			index[dict[c]] = remap[c]
			out = append(out, dict[c])
		}
		codes[i] = remap[c]
	}
	return out, index
}

func (d *decoder) rollback() {
	for _, s := range d.features {
		s.rollback()
	}
	d.pred.rollback()
	d.label.rollback()
	for _, v := range d.batch.Versions[d.versionMark:] {
		delete(d.versionIntern, v)
	}
	d.batch.Versions = d.batch.Versions[:d.versionMark]
}

func (d *decoder) commit() {
	b := d.batch
	if !d.opt.reference && d.lastTS != math.MinInt64 {
		switch {
		case d.ts < d.lastTS:
			d.outOfOrder = true
			d.falls++
		case d.ts > d.lastTS:
			d.rises++
		}
	}
	d.lastTS = d.ts
	lt := source.NoTime
	if d.hasLabelTS {
		lt = d.labelTS
	}
	d.labelTSCol = append(d.labelTSCol, lt)
	b.TS = append(b.TS, d.ts)
	b.Version = append(b.Version, d.version)
	b.Error = append(b.Error, d.isError)
	for _, s := range d.features {
		s.commit()
	}
	d.pred.commit()
	d.label.commit()
	d.latency.commit()
	d.score.commit()
}

func (d *decoder) internVersion(v []byte) (int32, error) {
	if vs := d.batch.Versions; len(vs) <= 8 {
		for i, x := range vs {
			if x == string(v) {
				return int32(i), nil // #nosec G115 -- i < 8
			}
		}
	} else if c, ok := d.versionIntern[string(v)]; ok {
		return c, nil
	}
	s := string(v)
	c, err := source.NextCode(len(d.batch.Versions))
	if err != nil {
		return 0, fmt.Errorf("versions: %w", err)
	}
	d.batch.Versions = append(d.batch.Versions, s)
	d.versionIntern[s] = c
	return c, nil
}

// object decodes the top-level record object.
func (d *decoder) object() error {
	sc := &d.sc
	if sc.peek() != '{' {
		return sc.eofOr("a record must be a JSON object")
	}
	sc.i++
	if sc.peek() == '}' {
		sc.i++
		return nil
	}
	for pos := 0; ; pos++ {
		if sc.peek() != '"' {
			return sc.eofOr("expected object key")
		}
		// Records usually repeat the key order of the previous one: try the key seen at this
		// position last time with a plain prefix comparison before scanning the key.
		id := fieldUnknown
		if pos < len(d.order) {
			if p := d.order[pos]; p != fieldUnknown && sc.matchKey(fieldNames[p]) {
				id = p
			}
		}
		if id == fieldUnknown {
			key, err := sc.str()
			if err != nil {
				return err
			}
			if err := sc.expect(':'); err != nil {
				return err
			}
			id = fieldOf(key)
			if pos < len(d.order) {
				d.order[pos] = id
			}
		}
		if err := d.field(id); err != nil {
			return err
		}
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return nil
		default:
			return sc.eofOr("expected ',' or '}'")
		}
	}
}

// Top-level record fields (DESIGN §6).
const (
	fieldUnknown = iota
	fieldTS
	fieldModel
	fieldVersion
	fieldStatus
	fieldLatency
	fieldScore
	fieldPrediction
	fieldLabel
	fieldFeatures
	fieldLabelTS
)

var fieldNames = [...]string{"", "ts", "model", "version", "status", "latency_ms", "score", "prediction", "label", "features", "label_ts"}

func fieldOf(key []byte) int {
	for id := fieldTS; id < len(fieldNames); id++ {
		if fieldNames[id] == string(key) {
			return id
		}
	}
	return fieldUnknown
}

func (d *decoder) field(id int) error {
	sc := &d.sc
	switch id {
	case fieldTS:
		if sc.peek() != '"' {
			return sc.eofOr(`"ts" must be an RFC 3339 string`)
		}
		off := sc.i
		v, err := sc.str()
		if err != nil {
			return err
		}
		ts, err := parseTimestamp(v)
		if err != nil {
			return &syntaxError{off: off, msg: fmt.Sprintf(`"ts" %q: %v`, clip(v), err)}
		}
		d.ts, d.hasTS = ts, true
	case fieldModel:
		switch sc.peek() {
		case '"':
			v, err := sc.str()
			if err != nil {
				return err
			}
			if string(v) != d.opt.model.Name {
				return fmt.Errorf("record of model %q in the stream of model %q", clip(v), d.opt.model.Name)
			}
		case 'n':
			return sc.literal("null")
		default:
			return sc.eofOr(`"model" must be a string`)
		}
	case fieldVersion:
		switch c := sc.peek(); {
		case c == '"':
			v, err := sc.str()
			if err != nil {
				return err
			}
			if d.version, err = d.internVersion(v); err != nil {
				return err
			}
		case c == 'n':
			err := sc.literal("null")
			if err != nil {
				return err
			}
			if d.version, err = d.internVersion(nil); err != nil {
				return err
			}
		case c == '-' || (c >= '0' && c <= '9'):
			v, err := sc.number()
			if err != nil {
				return err
			}
			if d.version, err = d.internVersion(v); err != nil {
				return err
			}
		default:
			return sc.eofOr(`"version" must be a string`)
		}
	case fieldStatus:
		switch sc.peek() {
		case '"':
			v, err := sc.str()
			if err != nil {
				return err
			}
			d.isError = bytes.EqualFold(v, []byte("error"))
		default:
			d.isError = false
			return sc.skip(0)
		}
	case fieldLatency:
		return d.value(d.latency)
	case fieldScore:
		return d.value(d.score)
	case fieldPrediction:
		return d.value(d.pred)
	case fieldLabel:
		return d.value(d.label)
	case fieldFeatures:
		return d.featureObject()
	case fieldLabelTS:
		switch sc.peek() {
		case 'n':
			d.hasLabelTS = false
			return sc.literal("null")
		case '"':
		default:
			return sc.eofOr(`"label_ts" must be an RFC 3339 string or null`)
		}
		off := sc.i
		v, err := sc.str()
		if err != nil {
			return err
		}
		ts, err := parseTimestamp(v)
		if err != nil {
			return &syntaxError{off: off, msg: fmt.Sprintf(`"label_ts" %q: %v`, clip(v), err)}
		}
		d.labelTS, d.hasLabelTS = ts, true
	default:
		return sc.skip(0)
	}
	return nil
}

func (d *decoder) featureObject() error {
	sc := &d.sc
	switch sc.peek() {
	case 'n':
		for _, s := range d.features {
			s.set, s.bad = false, false
		}
		return sc.literal("null")
	case '{':
	default:
		return sc.eofOr(`"features" must be an object`)
	}
	sc.i++
	for _, s := range d.features {
		s.set, s.bad = false, false // a repeated "features" key replaces the earlier object, as in encoding/json
	}
	if sc.peek() == '}' {
		sc.i++
		return nil
	}
	for pos := 0; ; pos++ {
		if sc.peek() != '"' {
			return sc.eofOr("expected feature name")
		}
		i, ok := -1, false
		if pos < len(d.featOrder) {
			if p := d.featOrder[pos]; p >= 0 && d.featKey[p] && sc.matchKey(d.batch.FeatureNames[p]) {
				i, ok = p, true
			}
		}
		if !ok {
			key, err := sc.str()
			if err != nil {
				return err
			}
			if err := sc.expect(':'); err != nil {
				return err
			}
			if i, ok = d.featIndex[string(key)]; !ok {
				i = -1
			}
			if pos < len(d.featOrder) {
				d.featOrder[pos] = i
			}
		}
		var err error
		if ok {
			err = d.value(d.features[i])
		} else {
			err = sc.skip(0) // a feature the model does not declare is ignored
		}
		if err != nil {
			return err
		}
		switch sc.peek() {
		case ',':
			sc.i++
		case '}':
			sc.i++
			return nil
		default:
			return sc.eofOr("expected ',' or '}'")
		}
	}
}

// value decodes one variable into its slot. Numeric: a number, or a string holding a number;
// anything else (null, a non-numeric string, a boolean, an object) is null, and so are non-finite
// values. Categorical: a string, or the literal text of a number or boolean; null is null.
// A value of the wrong JSON type is marked bad (counted as a type mismatch), whatever it is read
// as: a string or boolean for a numeric variable, a number for a categorical one, an object or
// array for either.
func (d *decoder) value(s *slot) error {
	sc := &d.sc
	c := sc.peek()
	switch {
	case c == '"':
		v, err := sc.str()
		if err != nil {
			return err
		}
		if s.cat {
			if s.code, err = s.internBytes(v); err != nil {
				return err
			}
			s.set, s.bad = true, false
			return nil
		}
		f, ok := parseFloat(v)
		s.num, s.set, s.bad = finite(f), ok, true
	case c == '-' || (c >= '0' && c <= '9'):
		f, tok, err := sc.float()
		if err != nil {
			return err
		}
		if s.cat {
			if s.code, err = s.internBytes(tok); err != nil {
				return err
			}
			s.set, s.bad = true, true
			return nil
		}
		s.num, s.set, s.bad = finite(f), true, false
	case c == 'n':
		if err := sc.literal("null"); err != nil {
			return err
		}
		s.set, s.bad = false, false
	case c == 't' || c == 'f':
		word := "false"
		if c == 't' {
			word = "true"
		}
		err := sc.literal(word)
		if err != nil {
			return err
		}
		if s.cat {
			if s.code, err = s.internString(word); err != nil {
				return err
			}
			s.set, s.bad = true, false
		} else {
			s.set, s.bad = false, true
		}
	default:
		if err := sc.skip(0); err != nil {
			return err
		}
		s.set, s.bad = false, true
	}
	return nil
}

// clip shortens a value quoted in an error message, at a rune boundary and with the cut marked
// (upstream.Cut), so that the connector's Redactor can hide a piece of a secret left at the cut.
func clip(v []byte) string {
	n := 64
	if len(v) > n {
		for n > 0 && !utf8.RuneStart(v[n]) {
			n--
		}
		return string(v[:n]) + upstream.Cut
	}
	return string(v)
}

// sortBatch orders a batch whose records arrived out of time order (stable by ts).
func sortBatch(b *source.Batch) {
	n := b.Len()
	perm := make([]int, n)
	for i := range perm {
		perm[i] = i
	}
	sort.SliceStable(perm, func(i, j int) bool { return b.TS[perm[i]] < b.TS[perm[j]] })
	b.TS = permute(b.TS, perm)
	b.Version = permute(b.Version, perm)
	b.Error = permute(b.Error, perm)
	b.LatencyMs = permute(b.LatencyMs, perm)
	b.Score = permute(b.Score, perm)
	if len(b.LabelTS) == n {
		b.LabelTS = permute(b.LabelTS, perm)
	}
	for _, c := range append([]*source.Column{b.Prediction, b.Label}, mapValues(b.Features)...) {
		if c.Kind == source.Categorical {
			c.Cat = permute(c.Cat, perm)
		} else {
			c.Num = permute(c.Num, perm)
		}
		if c.Mismatch != nil && n > 0 {
			c.MarkMismatch(n-1, c.MismatchAt(n-1)) // full length before permuting
			c.Mismatch = permute(c.Mismatch, perm)
		}
	}
}

func mapValues(m map[string]*source.Column) []*source.Column {
	out := make([]*source.Column, 0, len(m))
	for _, c := range m {
		out = append(out, c)
	}
	return out
}

func permute[T any](x []T, perm []int) []T {
	out := make([]T, len(x))
	for i, p := range perm {
		out[i] = x[p]
	}
	return out
}
