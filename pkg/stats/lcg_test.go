package stats

import "math"

// lcg is the 64-bit linear congruential generator (Knuth's MMIX constants) that
// testdata/gen_ref.py implements too: both languages produce bit-identical data from it, because
// the data use only +, −, × and floor.
type lcg struct{ s uint64 }

func (r *lcg) next() float64 {
	r.s = r.s*6364136223846793005 + 1442695040888963407
	return float64(r.s>>11) / float64(1<<53)
}

// normalish returns n values loc + scale·(u1+u2+u3+u4−2) (an Irwin–Hall approximation of a normal
// sample with sd scale/√3), as normalish in testdata/gen_ref.py.
func normalish(seed uint64, n int, loc, scale float64) []float64 {
	r := &lcg{seed}
	out := make([]float64, n)
	for i := range out {
		s := r.next() + r.next()
		s = s + r.next()
		s = s + r.next()
		s = s - 2.0
		out[i] = scale*s + loc
	}
	return out
}

// ints returns n values floor(u·k), as ints in testdata/gen_ref.py.
func ints(seed uint64, n int, k float64) []float64 {
	r := &lcg{seed}
	out := make([]float64, n)
	for i := range out {
		out[i] = math.Floor(r.next() * k)
	}
	return out
}

func dataSet(name string) []float64 {
	switch name {
	case "A":
		return normalish(1, 1000, 10.0, 2.0)
	case "B":
		return normalish(2, 777, 10.6, 2.3)
	case "T1":
		return ints(3, 500, 10.0)
	case "T2":
		return ints(4, 333, 12.0)
	case "one":
		return []float64{3.5}
	case "two":
		return []float64{1.0, 4.0}
	case "three":
		return []float64{2.0, -1.0, 7.0}
	case "ties":
		return []float64{1, 1, 2, 2, 2, 3, 3, 3, 3, 9}
	}
	if s, ok := refSampleSets[name]; ok {
		return normalish(s.Seed, s.N, s.Loc, s.Scale)
	}
	panic("test data set " + name + " unknown")
}

func sortedCopy(x []float64) []float64 {
	y := append([]float64(nil), x...)
	SortFloat64s(y)
	return y
}
