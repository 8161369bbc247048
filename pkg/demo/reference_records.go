package demo

import (
	"context"
	"errors"
)

// EachReference calls fn for every row of the reference (training) sample of a model as a Record,
// in order: the rows Reference returns (version "" = the pooled sample, each row carrying the
// version drawn for it), stamped ReferenceTime + i seconds, latency NaN, status ok. An error from
// fn, or the end of ctx, stops the walk and is returned.
func (f *Fleet) EachReference(ctx context.Context, model, version string, fn func(r Record) error) error {
	m, v, err := f.lookup(model, version)
	if err != nil {
		return err
	}
	if fn == nil {
		return errors.New("demo: EachReference needs a callback")
	}
	var stop error
	f.referenceRows(m, v, newRow(m), func(x *row) {
		if stop != nil {
			return
		}
		if stop = ctx.Err(); stop == nil {
			stop = fn(m.record(x))
		}
	})
	return stop
}
