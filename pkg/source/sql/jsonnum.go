package sql

import (
	"fmt"
	"math/big"
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
// number; NULL otherwise.
func jsonNumExpr(x string) string {
	return fmt.Sprintf(`(CASE jsonb_typeof(%[1]s) WHEN 'number' THEN (%[1]s)::float8 WHEN 'string' THEN (SELECT CASE
	WHEN n.v IS NULL OR abs(n.v) >= %[2]s THEN NULL WHEN abs(n.v) <= %[3]s THEN 0::float8 ELSE n.v::float8 END
	FROM (SELECT CASE WHEN length(%[1]s #>> '{}') <= %[4]d AND (%[1]s #>> '{}') ~ '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]{1,3})?$'
		THEN (%[1]s #>> '{}')::numeric END AS v) n) END)`, x, overflowAt, underflowAt, numberChars)
}
