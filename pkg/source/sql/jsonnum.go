package sql

import (
	"fmt"
	"math"
	"math/big"

	"github.com/jackc/pgx/v5/pgtype"
)

// Numbers in JSON strings. The Prediction Log path reads a string given for a numeric variable
// as the number it holds (strconv.ParseFloat; counted as a type mismatch); push-down statements
// read it the same way in SQL, for the decimal forms: an optional sign, digits with an optional
// point, an optional exponent of at most three digits, at most numberChars characters. Such a
// string is exact in numeric, and numeric → float8 rounds correctly (strtod), as ParseFloat does;
// values that round to ±Inf are null (as non-finite values are everywhere) and values that round
// to zero are 0, where float8's input would fail. Other strings ("NaN", "Inf", hexadecimal,
// longer ones) are null in push-down; of these only hexadecimal and longer strings are numbers on
// the raw path (the README says so).
const numberChars = 400

var (
	// overflowAt is the smallest value that rounds to +Inf: 2^1024 − 2^970 (MaxFloat64 + half an ulp).
	overflowAt = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 1024), new(big.Int).Lsh(big.NewInt(1), 970)).String()
	// underflowAt is the largest value that rounds to 0: 2^-1075 (half the smallest denormal;
	// the tie rounds to even, 0).
	underflowAt = new(big.Float).SetPrec(2000).SetMantExp(big.NewFloat(1), -1075).Text('f', 1075)
)

// jsonNumExpr is a jsonb value as float8: a JSON number, or a JSON string that holds a decimal
// number; NULL otherwise. Both go through numeric (a jsonb number is one), whose cast to float8
// fails outside float8's range: numericFloatExpr keeps the raw path's reading there.
func jsonNumExpr(x string) string {
	return fmt.Sprintf(`(CASE jsonb_typeof(%[1]s) WHEN 'number' THEN %[2]s WHEN 'string' THEN CASE WHEN %[3]s THEN %[4]s END END)`,
		x, numericFloatExpr("("+x+")::numeric"), jsonNumberString(x), numericFloatExpr("("+x+" #>> '{}')::numeric"))
}

// jsonNumberString is the condition that the jsonb string x holds a decimal number that numeric
// reads (see numberChars).
func jsonNumberString(x string) string {
	return fmt.Sprintf(`length(%[1]s #>> '{}') <= %[2]d AND (%[1]s #>> '{}') ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$'`, x, numberChars)
}

// numericFloatExpr is the numeric expression n as float8 as strconv.ParseFloat rounds it, without
// the cast's errors: NULL where it rounds to ±Inf (and for numeric's NaN and ±Infinity, which
// compare above or below every number), 0 where it rounds to zero (float8's input rejects a
// nonzero value that underflows to 0; subnormal results are kept). n is evaluated up to three
// times: callers pass a cheap expression.
func numericFloatExpr(n string) string {
	return fmt.Sprintf(`(CASE WHEN abs(%[1]s) >= %[2]s THEN NULL WHEN abs(%[1]s) <= %[3]s THEN 0::float8 ELSE (%[1]s)::float8 END)`, n, overflowAt, underflowAt)
}

// Binning jsonb and numeric values without float8. A JSON number is an exact decimal (numeric);
// the raw path rounds it to the nearest float64 x (ParseFloat) and puts it in bin
// #{edges e_j <= x}. Rounding is monotone, so x >= e exactly when the decimal v is at or above
// the lower end of e's rounding interval: v >= L(e) when e's significand is even (a tie at L
// rounds to e), v > L(e) when it is odd (the tie rounds to e's predecessor), with L(e) the
// midpoint of e and the float64 below it. The numeric thresholds L(e_j) therefore bin every
// decimal exactly as the raw path bins its float64 — ±Inf (|v| >= overflowAt) and zero included —
// without a numeric → float8 conversion per value (which is dearer than the comparisons and fails
// outside float8's range). A strict threshold is L(e) + 10^-16383: numeric holds at most 16383
// fractional digits, so no value lies strictly between the two.

// numericThresholds are the thresholds, as width_bucket takes them, that give a finite decimal v
// the same bin as the float path's (numExpr) thresholds give its float64: 1 + #{e_j <= x} for a
// finite x, 0 below the float64 range and len(edges)+2 above it. Each threshold is split into an
// exact midpoint and a nudge (0 or the smallest numeric step), added in the statement, so that
// the bound parameters stay small.
func numericThresholds(edges []float64) (mids, nudges []pgtype.Numeric, err error) {
	add := func(e float64, inf bool) {
		if err != nil {
			return
		}
		var m *big.Float
		odd := false
		switch {
		case inf || math.IsInf(e, 1): // the +Inf bin and a +Inf edge: values from overflowAt on round to +Inf (the tie rounds to even, +Inf)
			m = new(big.Float).SetInt(overflowInt)
		case math.IsInf(e, -1): // every finite x is above −Inf: the lowest threshold
			m, odd = new(big.Float).Neg(new(big.Float).SetInt(overflowInt)), true
		default:
			if e == 0 {
				e = 0 // −0 rounds as +0 and compares equal
			}
			odd = math.Float64bits(e)&1 == 1
			lo := math.Nextafter(e, math.Inf(-1))
			if math.IsInf(lo, -1) { // e = −MaxFloat64: below it values round to −Inf
				m = new(big.Float).Neg(new(big.Float).SetInt(overflowInt))
			} else {
				m = new(big.Float).SetPrec(2200).SetFloat64(lo)
				m.Add(m, new(big.Float).SetPrec(2200).SetFloat64(e))
				m.Quo(m, big.NewFloat(2)) // exact: two float64s' sum at 2200 bits, halved
			}
		}
		var mid pgtype.Numeric
		if mid, err = exactNumeric(m); err != nil {
			return
		}
		mids = append(mids, mid)
		n := pgtype.Numeric{Int: big.NewInt(0), Valid: true}
		if odd {
			n = pgtype.Numeric{Int: big.NewInt(1), Exp: -16383, Valid: true}
		}
		nudges = append(nudges, n)
	}
	add(-math.MaxFloat64, false)
	for _, e := range edges {
		add(e, false)
	}
	add(0, true)
	return mids, nudges, err
}

// overflowInt is overflowAt as an integer.
var overflowInt, _ = new(big.Int).SetString(overflowAt, 10)

// exactNumeric is the finite binary fraction f as a numeric: a binary fraction with e fractional
// bits has exactly e fractional decimal digits, so Text prints it exactly with that many.
func exactNumeric(f *big.Float) (pgtype.Numeric, error) {
	digits := int(f.MinPrec()) - f.MantExp(nil) // fractional bits: precision − binary exponent
	if digits < 0 {
		digits = 0
	}
	var n pgtype.Numeric
	err := n.Scan(f.Text('f', digits))
	return n, err
}

// jsonNumericBinExpr is the bin of the jsonb value x on the numeric thresholds t: its JSON
// number's, or the number a JSON string holds (as jsonNumExpr reads it); NULL for anything else.
func jsonNumericBinExpr(x, t string) string {
	return fmt.Sprintf(`(CASE jsonb_typeof(%[1]s) WHEN 'number' THEN width_bucket((%[1]s)::numeric, %[2]s) WHEN 'string' THEN CASE WHEN %[3]s THEN width_bucket((%[1]s #>> '{}')::numeric, %[2]s) END END)`,
		x, t, jsonNumberString(x))
}
