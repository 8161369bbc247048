package feastdemo

import (
	"encoding/json"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
)

// The registry is written as Feast's file registry writes it: a serialized feast.core.Registry,
// built here field by field with protowire. The field numbers are those pkg/source/feast decodes
// (feast-dev/feast at commit f0bc0700, v0.66; see shared notes): Registry {entities=1,
// version_id=4, last_updated=5, feature_views=6, feature_services=7, projects=17}; Entity {spec=1
// {name=1, value_type=2, description=3, join_key=4, project=9}, meta=2}; FeatureView {spec=1
// {name=1, project=2, entities=3, features=4 {name=1, value_type=2}, tags=5, ttl=6, batch_source=7,
// online=8, owner=11, entity_columns=12}, meta=2 {created=1, last_updated=2,
// materialization_intervals=3 {start=1, end=2}}}; DataSource {type=1, timestamp_field=3,
// created_timestamp_column=5, custom_options=16 {configuration=1}, data_source_class_type=17,
// name=20, project=21}; FeatureService {spec=1 {name=1, project=2, features=3
// {feature_view_name=1, feature_columns=2}, description=5, owner=6}}; Project {spec=1 {name=1,
// description=2, owner=4}, meta=2 {created=1, last_updated=2}}.

// Feast value types and the PostgreSQL source's type and class.
const (
	valueString        = 2
	valueDouble        = 5
	sourceCustom       = 6
	postgresSourceType = "feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource"
	owner              = "ml-platform@modellens.example"
)

type msg []byte

func (m msg) str(n protowire.Number, s string) msg {
	return protowire.AppendString(protowire.AppendTag(m, n, protowire.BytesType), s)
}

func (m msg) sub(n protowire.Number, b msg) msg {
	return protowire.AppendBytes(protowire.AppendTag(m, n, protowire.BytesType), b)
}

func (m msg) varint(n protowire.Number, v uint64) msg {
	return protowire.AppendVarint(protowire.AppendTag(m, n, protowire.VarintType), v)
}

// ts is a google.protobuf.Timestamp (and Duration: the same fields) {seconds=1, nanos=2}.
func ts(t time.Time) msg {
	return secondsNanos(t.Unix(), t.Nanosecond())
}

func duration(d time.Duration) msg {
	return secondsNanos(int64(d/time.Second), int(d%time.Second))
}

func secondsNanos(sec int64, nanos int) msg {
	var m msg
	if sec != 0 {
		m = m.varint(1, uint64(sec)) // #nosec G115 -- protobuf int64 fields are two's complement varints
	}
	if nanos != 0 {
		m = m.varint(2, uint64(nanos)) // #nosec G115 -- nanos are in [0, 1e9)
	}
	return m
}

func fieldSpec(name string, valueType uint64) msg {
	return msg(nil).str(1, name).varint(2, valueType)
}

// created is when the demo objects were registered (the reference samples' time).
var created = demo.ReferenceTime

// Registry is the demo project's registry as Feast's file registry holds it at time at, with the
// materialization intervals that ended in (at − history, at].
func Registry(at time.Time, history time.Duration) []byte {
	at = at.UTC()
	var reg msg
	reg = reg.sub(17, msg(nil).sub(1, msg(nil).str(1, Project).str(2, "The ModelLens demo fleet's features").str(4, owner)).
		sub(2, msg(nil).sub(1, ts(created)).sub(2, ts(created))))
	seen := map[string]bool{}
	for _, v := range Views {
		for _, k := range v.JoinKeys {
			if seen[k] {
				continue
			}
			seen[k] = true
			spec := msg(nil).str(1, k).varint(2, valueString).str(3, "the records' "+k+" feature").str(4, k).str(9, Project)
			reg = reg.sub(1, msg(nil).sub(1, spec).sub(2, msg(nil).sub(1, ts(created)).sub(2, ts(created))))
		}
	}
	for _, v := range Views {
		reg = reg.sub(6, featureView(v, at, history))
	}
	for _, v := range Views {
		spec := msg(nil).str(1, v.Model).str(2, Project)
		proj := msg(nil).str(1, v.Name)
		for _, f := range v.Features {
			proj = proj.sub(2, fieldSpec(f, valueDouble))
		}
		spec = spec.sub(3, proj).str(5, "the features "+v.Model+" is served").str(6, owner)
		reg = reg.sub(7, msg(nil).sub(1, spec).sub(2, msg(nil).sub(1, ts(created)).sub(2, ts(created))))
	}
	reg = reg.str(4, at.Format("20060102T150405Z")).sub(5, ts(at))
	return reg
}

func featureView(v View, at time.Time, history time.Duration) msg {
	conf, _ := json.Marshal(map[string]string{"name": v.Table, "query": "", "table": v.Table})
	src := msg(nil).varint(1, sourceCustom).str(3, TimestampField).str(5, CreatedField).
		sub(16, msg(nil).sub(1, msg(conf))).str(17, postgresSourceType).str(20, v.Table).str(21, Project)
	spec := msg(nil).str(1, v.Name).str(2, Project)
	for _, k := range v.JoinKeys {
		spec = spec.str(3, k)
	}
	for _, f := range v.Features {
		spec = spec.sub(4, fieldSpec(f, valueDouble))
	}
	spec = spec.sub(5, msg(nil).str(1, "model").str(2, v.Model)).
		sub(6, duration(v.TTL)).sub(7, src).varint(8, 1).str(11, owner)
	for _, k := range v.JoinKeys {
		spec = spec.sub(12, fieldSpec(k, valueString))
	}
	meta := msg(nil).sub(1, ts(created))
	ivs := Intervals(v.Name, at.Add(-history), at)
	updated := created
	if len(ivs) > 0 {
		updated = ivs[len(ivs)-1][1]
	}
	meta = meta.sub(2, ts(updated))
	for _, iv := range ivs {
		meta = meta.sub(3, msg(nil).sub(1, ts(iv[0])).sub(2, ts(iv[1])))
	}
	return msg(nil).sub(1, spec).sub(2, meta)
}
