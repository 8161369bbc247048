package source

import "context"

// Sampler is implemented by sources that can sample a range's records in their database
// (pkg/source/sql). SampleRecords answers a RecordsRequest with only the time, the version and
// the named Variables (features, "prediction", "label", "latency", "score"; every other column of
// the batch is null): every record of the range when there are at most Limit of them (Limit 0: no
// cap), else a deterministic sample of Limit records spread over the whole range (the same records
// for the same request over the same rows), ascending by time, with SampledFrom set to the
// number of records in the range. The query layer uses it for the statistics that need raw values
// (ks, wasserstein, percentiles over overlapping windows), where a cut at the newest records would
// leave the earlier windows empty.
type Sampler interface {
	SampleRecords(ctx context.Context, req RecordsRequest) (*Batch, error)
}
