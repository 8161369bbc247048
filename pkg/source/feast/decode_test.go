package feast

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

var (
	iv1 = Interval{Start: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	iv2 = Interval{Start: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), End: time.Date(2026, 12, 3, 6, 30, 0, 250, time.UTC)}
)

func driverRegistry(ivs ...Interval) msg {
	ent := msg(nil).sub(1, msg(nil).str(1, "driver").varint(2, uint64(ValueInt64)).str(3, "a driver").str(4, "driver_id").str(9, "rides"))
	fs := msg(nil).sub(1, msg(nil).str(1, "driver_activity").str(2, "rides").
		sub(3, msg(nil).str(1, "driver_hourly_stats").sub(2, fieldMsg("conv_rate", ValueFloat))).
		str(5, "ranking model").str(6, "ml@rides.example").
		sub(7, msg(nil).fixed32(1, 0x3f000000))) // sample_rate 0.5
	proj := msg(nil).sub(1, msg(nil).str(1, "rides").str(2, "ride hailing").str(4, "ml team"))
	return msg(nil).sub(regEntities, ent).sub(regFeatureViews, driverView(ivs...)).sub(regFeatureServices, fs).
		sub(regProjects, proj).str(regVersionID, "v-1").sub(regLastUpdated, tsMsg(time.Unix(1_700_000_200, 0)))
}

func wantDriverView(ivs ...Interval) FeatureView {
	return FeatureView{
		Name: "driver_hourly_stats", Project: "rides", Entities: []string{"driver"},
		Features:      []Field{{"conv_rate", ValueFloat}, {"acc_rate", ValueDouble}, {"avg_daily_trips", ValueInt64}},
		EntityColumns: []Field{{"driver_id", ValueInt64}},
		TTL:           86400*time.Second + 500*time.Millisecond, Online: true, Owner: "ml@rides.example",
		BatchSource: DataSource{Name: "driver_stats", Type: "CUSTOM_SOURCE",
			Class: "feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource",
			Table: "driver_stats", TimestampField: "event_timestamp", CreatedTimestampColumn: "created",
			FieldMapping: map[string]string{"conv_rate_raw": "conv_rate"}},
		MaterializationIntervals: ivs,
		Created:                  time.Unix(1_700_000_000, 0).UTC(), LastUpdated: time.Unix(1_700_000_100, 0).UTC(),
	}
}

func TestDecodeRegistryBuilt(t *testing.T) {
	r, err := DecodeRegistry(driverRegistry(iv1, iv2))
	require.NoError(t, err)
	require.Equal(t, []FeatureView{wantDriverView(iv1, iv2)}, r.FeatureViews)
	require.Equal(t, iv2.End, r.FeatureViews[0].LastMaterialized())
	require.Equal(t, []Entity{{Name: "driver", Project: "rides", JoinKey: "driver_id", ValueType: ValueInt64, Description: "a driver"}}, r.Entities)
	require.Equal(t, []FeatureService{{Name: "driver_activity", Project: "rides", Description: "ranking model", Owner: "ml@rides.example",
		LoggingSampleRate: 0.5, Features: []FeatureViewProjection{{FeatureView: "driver_hourly_stats", Features: []Field{{"conv_rate", ValueFloat}}}}}}, r.FeatureServices)
	require.Equal(t, []Project{{Name: "rides", Description: "ride hailing", Owner: "ml team"}}, r.Projects)
	require.Equal(t, "v-1", r.VersionID)
	require.Equal(t, []Field{{"driver_id", ValueInt64}}, r.JoinKeys(&r.FeatureViews[0]))
}

// TestDecodeMergesRepeatedMessages: a message field that occurs twice is merged (protobuf's rule),
// so a meta appended after the fact adds its intervals.
func TestDecodeMergesRepeatedMessages(t *testing.T) {
	b := append(driverView(iv1), msg(nil).sub(2, intervalMeta(iv2))...)
	v, err := DecodeFeatureView(b)
	require.NoError(t, err)
	require.Equal(t, wantDriverView(iv1, iv2), v)
}

// TestDecodeSkipsUnknownFields: fields of every wire type this version does not know, at every
// level, are skipped (forward compatible).
func TestDecodeSkipsUnknownFields(t *testing.T) {
	unknown := func(m msg) msg {
		m = m.varint(900, 7).fixed32(901, 1).str(902, "future").sub(903, msg(nil).varint(1, 1))
		m = protowire.AppendTag(m, 904, protowire.Fixed64Type)
		m = protowire.AppendFixed64(m, 42)
		m = protowire.AppendTag(m, 905, protowire.StartGroupType)
		m = protowire.AppendTag(m, 1, protowire.VarintType)
		m = protowire.AppendVarint(m, 3)
		return protowire.AppendTag(m, 905, protowire.EndGroupType)
	}
	spec := unknown(msg(nil).str(fvName, "driver_hourly_stats").str(fvProject, "rides").str(fvEntities, "driver").
		sub(fvFeatures, unknown(fieldMsg("conv_rate", ValueFloat))).varint(20, 1)) // disabled=20: not read
	meta := unknown(intervalMeta(iv1))
	view := unknown(msg(nil).sub(1, spec).sub(2, meta))
	reg := unknown(msg(nil).sub(regFeatureViews, view).varint(3, 1).sub(8, msg("odfv")).sub(10, msg("infra")))
	r, err := DecodeRegistry(reg)
	require.NoError(t, err)
	require.Equal(t, []FeatureView{{Name: "driver_hourly_stats", Project: "rides", Entities: []string{"driver"},
		Features: []Field{{"conv_rate", ValueFloat}}, MaterializationIntervals: []Interval{iv1}}}, r.FeatureViews)
}

func TestDecodeCorrupt(t *testing.T) {
	good := driverRegistry(iv1)
	for _, c := range []struct {
		name, want string
		b          []byte
	}{
		{"truncated length", "corrupt Feast registry data at registry: field 1: unexpected EOF", good[:40]},
		{"truncated tag", "corrupt Feast registry data at registry: unexpected EOF", []byte{0x80}},
		{"bad field number", "invalid field number", []byte{0x00, 0x01}},
		{"wrong wire type", "at feature_views[0].spec.name: field 1 has wire type 0, want 2",
			msg(nil).sub(regFeatureViews, msg(nil).sub(1, msg(nil).varint(1, 5)))},
		{"message as varint", "at feature_views[0]: field 6 has wire type 0, want 2", msg(nil).varint(regFeatureViews, 1)},
		{"not UTF-8", "at feature_views[0].spec.name: field 1 is not UTF-8",
			msg(nil).sub(regFeatureViews, msg(nil).sub(1, msg(nil).str(1, "\xff\xfe")))},
		{"timestamp range", "materialization_intervals[0].end_time: timestamp out of range",
			msg(nil).sub(regFeatureViews, msg(nil).sub(2, msg(nil).sub(3, msg(nil).sub(2, msg(nil).varint(1, 1<<62)))))},
		{"negative nanos", "timestamp out of range",
			msg(nil).sub(regLastUpdated, msg(nil).varint(1, 5).varint(2, uint64(0xFFFFFFFFFFFFFFFF)))},
		{"negative ttl", "spec.ttl: duration out of range",
			msg(nil).sub(regFeatureViews, msg(nil).sub(1, msg(nil).sub(fvTTL, msg(nil).varint(1, uint64(0xFFFFFFFFFFFFFFFF)))))},
		{"huge ttl", "spec.ttl: duration out of range",
			msg(nil).sub(regFeatureViews, msg(nil).sub(1, msg(nil).sub(fvTTL, msg(nil).varint(1, 1<<40))))},
		{"sample rate type", "logging_config.sample_rate: field 1 has wire type 0, want 5",
			msg(nil).sub(regFeatureServices, msg(nil).sub(1, msg(nil).sub(7, msg(nil).varint(1, 1))))},
	} {
		_, err := DecodeRegistry(c.b)
		require.ErrorContains(t, err, c.want, c.name)
		var ce *CorruptError
		require.True(t, errors.As(err, &ce), c.name)
	}
}

// TestDecodeEveryPrefix: every truncation of a registry either decodes (a prefix that ends
// between top-level fields is a valid, smaller registry) or is a CorruptError; nothing panics.
func TestDecodeEveryPrefix(t *testing.T) {
	good := driverRegistry(iv1, iv2)
	ok := 0
	for n := range len(good) {
		r, err := DecodeRegistry(good[:n])
		if err != nil {
			var ce *CorruptError
			require.True(t, errors.As(err, &ce), "prefix %d: %v", n, err)
			continue
		}
		require.NotNil(t, r)
		ok++
	}
	require.Less(t, ok, 8, "only prefixes ending on a top-level field boundary decode")
}

func TestDecodeCaps(t *testing.T) {
	spec := msg(nil).str(fvName, "wide")
	for i := range limits.MaxFeastFields + 1 {
		spec = spec.sub(fvFeatures, fieldMsg("f"+strings.Repeat("x", i%3), ValueInt64))
	}
	_, err := DecodeFeatureView(msg(nil).sub(1, spec))
	require.ErrorContains(t, err, "more than 10000 features")

	reg := msg(nil)
	for range limits.MaxFeastObjects + 1 {
		reg = reg.sub(regEntities, nil)
	}
	_, err = DecodeRegistry(reg)
	require.ErrorContains(t, err, "more than 100000 entities")

	_, err = DecodeRegistry(make([]byte, limits.FeastRegistryBytes+1))
	require.ErrorContains(t, err, "larger than 64 MiB")
}

// FuzzDecodeRegistry: any bytes decode or fail with a CorruptError (or the size error); nothing
// panics, strings are UTF-8, counts stay under the caps, and decoding is deterministic. The seed
// corpus is in testdata/fuzz/FuzzDecodeRegistry; `go test -fuzz FuzzDecodeRegistry` explores.
func FuzzDecodeRegistry(f *testing.F) {
	f.Add([]byte(driverRegistry(iv1, iv2)))
	f.Add([]byte(msg(nil).sub(regFeatureViews, driverView())))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := DecodeRegistry(b)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("not a CorruptError: %v", err)
			}
			return
		}
		if len(r.FeatureViews) > limits.MaxFeastObjects || len(r.Entities) > limits.MaxFeastObjects {
			t.Fatal("cap exceeded")
		}
		for _, v := range r.FeatureViews {
			if !utf8.ValidString(v.Name) || len(v.Features) > limits.MaxFeastFields || v.TTL < 0 {
				t.Fatalf("bad view %q", v.Name)
			}
			_ = v.LastMaterialized()
			_ = r.JoinKeys(&v)
		}
		r2, err := DecodeRegistry(b)
		if err != nil || len(r2.FeatureViews) != len(r.FeatureViews) {
			t.Fatal("not deterministic")
		}
	})
}
