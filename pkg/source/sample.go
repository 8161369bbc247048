package source

import "math/rand/v2"

// ReservoirSeed seeds every reservoir: the same stream of records gives the same sample on every
// query, instance and machine.
const ReservoirSeed = 0x6d6f64656c6c656e // "modellen"

// Reservoir chooses a uniform sample of fixed size from a stream of unknown length (Vitter's
// algorithm R) with a fixed-seed generator, so the sample is deterministic. For each record of the
// stream Next says where it goes: the sample keeps every record until it holds size of them; the
// k-th record after that (k counted from 0 over the whole stream) replaces a uniformly chosen one
// with probability size/(k+1), which leaves each record of the stream in the sample with the same
// probability size/n.
type Reservoir struct {
	size int
	seen int64
	rng  *rand.Rand
}

// NewReservoir returns a reservoir of size records (size >= 1).
func NewReservoir(size int) *Reservoir {
	if size < 1 {
		size = 1
	}
	// #nosec G404 -- a fixed-seed generator is the point: every query keeps the same sample rows; nothing secret
	return &Reservoir{size: size, rng: rand.New(rand.NewPCG(ReservoirSeed, uint64(size)))}
}

// Next returns the slot of the next record: len (the number kept so far, < size) means append it,
// a smaller index means replace that record, -1 means drop it.
func (r *Reservoir) Next() int {
	k := r.seen
	r.seen++
	if k < int64(r.size) {
		return int(k)
	}
	if j := r.rng.Int64N(k + 1); j < int64(r.size) {
		return int(j)
	}
	return -1
}

// Seen is the number of records offered so far.
func (r *Reservoir) Seen() int64 { return r.seen }

// Size is the sample size.
func (r *Reservoir) Size() int { return r.size }
