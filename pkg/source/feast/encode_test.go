package feast

import (
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// msg builds protobuf wire bytes for tests, by field number (the same numbers the decoder reads).
type msg []byte

func (m msg) str(n protowire.Number, s string) msg {
	m = protowire.AppendTag(m, n, protowire.BytesType)
	return protowire.AppendString(m, s)
}

func (m msg) sub(n protowire.Number, b msg) msg {
	m = protowire.AppendTag(m, n, protowire.BytesType)
	return protowire.AppendBytes(m, b)
}

func (m msg) varint(n protowire.Number, v uint64) msg {
	m = protowire.AppendTag(m, n, protowire.VarintType)
	return protowire.AppendVarint(m, v)
}

func (m msg) fixed32(n protowire.Number, v uint32) msg {
	m = protowire.AppendTag(m, n, protowire.Fixed32Type)
	return protowire.AppendFixed32(m, v)
}

func tsMsg(t time.Time) msg {
	return msg(nil).varint(1, uint64(t.Unix())).varint(2, uint64(t.Nanosecond())) // #nosec G115 -- test times are after 1970
}

func fieldMsg(name string, vt ValueType) msg {
	return msg(nil).str(1, name).varint(2, uint64(vt)) // #nosec G115 -- a small enum
}

// intervalMeta is a FeatureViewMeta holding materialization intervals (field 3).
func intervalMeta(ivs ...Interval) msg {
	var m msg
	for _, iv := range ivs {
		m = m.sub(fvMetaMaterialized, msg(nil).sub(1, tsMsg(iv.Start)).sub(2, tsMsg(iv.End)))
	}
	return m
}

// driverView is a FeatureView as Feast writes a PostgreSQLSource-backed view, with
// materialization intervals.
func driverView(ivs ...Interval) msg {
	conf := `{"name": "driver_stats", "query": "", "table": "driver_stats"}`
	src := msg(nil).varint(dsType, 6).
		str(dsTimestampField, "event_timestamp").
		str(dsCreatedColumn, "created").
		sub(dsCustom, msg(nil).sub(1, msg(conf))).
		str(dsClass, "feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource").
		str(dsName, "driver_stats").
		sub(dsFieldMapping, msg(nil).str(1, "conv_rate_raw").str(2, "conv_rate"))
	spec := msg(nil).str(fvName, "driver_hourly_stats").str(fvProject, "rides").
		str(fvEntities, "driver").
		sub(fvFeatures, fieldMsg("conv_rate", ValueFloat)).
		sub(fvFeatures, fieldMsg("acc_rate", ValueDouble)).
		sub(fvFeatures, fieldMsg("avg_daily_trips", ValueInt64)).
		sub(fvTTL, msg(nil).varint(1, 86400).varint(2, 500_000_000)).
		sub(fvBatchSource, src).
		varint(fvOnline, 1).
		str(fvOwner, "ml@rides.example").
		sub(fvEntityColumns, fieldMsg("driver_id", ValueInt64))
	meta := msg(nil).sub(fvMetaCreated, tsMsg(time.Unix(1_700_000_000, 0))).
		sub(fvMetaUpdated, tsMsg(time.Unix(1_700_000_100, 0)))
	meta = append(meta, intervalMeta(ivs...)...)
	return msg(nil).sub(1, spec).sub(2, meta)
}
