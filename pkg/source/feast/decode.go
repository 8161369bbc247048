package feast

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// The decoders below read Feast's protobuf messages by field number with protowire. The numbers
// are those of feast-dev/feast at commit f0bc0700 (v0.66): protos/feast/core/Registry.proto,
// FeatureView.proto, Entity.proto, FeatureService.proto, DataSource.proto, Project.proto,
// Feature.proto and google/protobuf/{timestamp,duration}.proto. A field this version does not
// know is skipped (forward compatible); a known field with another wire type, truncated bytes or
// a string that is not UTF-8 is an error naming the message and the field.

// Registry (feast.core.Registry) field numbers.
const (
	regEntities        = 1
	regVersionID       = 4
	regLastUpdated     = 5
	regFeatureViews    = 6
	regFeatureServices = 7
	regDataSources     = 12
	regProjects        = 17
)

// CorruptError reports registry bytes that are not a valid Feast message.
type CorruptError struct {
	// Where names the message and field path ("feature_views[2].spec.ttl").
	Where  string
	Reason string
}

func (e *CorruptError) Error() string {
	return "corrupt Feast registry data at " + e.Where + ": " + e.Reason
}

func corrupt(where, format string, args ...any) error {
	return &CorruptError{Where: where, Reason: fmt.Sprintf(format, args...)}
}

// field is one decoded protobuf field: its number and wire type, with the varint, fixed32 or
// length-delimited payload.
type field struct {
	num   protowire.Number
	typ   protowire.Type
	u     uint64
	bytes []byte
}

// walk calls fn for each field of message b, in order; fields of groups and fixed64 are skipped
// whole. where names the message in errors.
func walk(b []byte, where string, fn func(f field) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return corrupt(where, "%v", protowire.ParseError(n))
		}
		b = b[n:]
		f := field{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			f.u, n = protowire.ConsumeVarint(b)
		case protowire.BytesType:
			f.bytes, n = protowire.ConsumeBytes(b)
		case protowire.Fixed32Type:
			var v uint32
			v, n = protowire.ConsumeFixed32(b)
			f.u = uint64(v)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return corrupt(where, "field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

// want checks a known field's wire type.
func (f field) want(where string, t protowire.Type) error {
	if f.typ != t {
		return corrupt(where, "field %d has wire type %d, want %d", f.num, f.typ, t)
	}
	return nil
}

func (f field) str(where string) (string, error) {
	if err := f.want(where, protowire.BytesType); err != nil {
		return "", err
	}
	if !utf8.Valid(f.bytes) {
		return "", corrupt(where, "field %d is not UTF-8", f.num)
	}
	return string(f.bytes), nil
}

func (f field) msg(where string) ([]byte, error) {
	if err := f.want(where, protowire.BytesType); err != nil {
		return nil, err
	}
	return f.bytes, nil
}

func (f field) varint(where string) (uint64, error) {
	if err := f.want(where, protowire.VarintType); err != nil {
		return 0, err
	}
	return f.u, nil
}

// enum reads an enum field (an int32 on the wire).
func (f field) enum(where string) (int32, error) {
	v, err := f.varint(where)
	return int32(v), err // #nosec G115 -- protobuf enums are int32 truncations of the varint
}

// count enforces a cap on repeated fields.
func count(n *int, max int, where, what string) error {
	*n++
	if *n > max {
		return corrupt(where, "more than %d %s", max, what)
	}
	return nil
}

// DecodeRegistry decodes a serialized feast.core.Registry (a registry file, or the bytes a
// registry cache holds).
func DecodeRegistry(b []byte) (*Registry, error) {
	if int64(len(b)) > limits.FeastRegistryBytes {
		return nil, fmt.Errorf("the Feast registry is larger than %d MiB", limits.FeastRegistryBytes>>20)
	}
	r := &Registry{}
	var nEnt, nFV, nFS, nDS, nProj int
	err := walk(b, "registry", func(f field) error {
		switch f.num {
		case regEntities:
			where := fmt.Sprintf("entities[%d]", nEnt)
			if err := count(&nEnt, limits.MaxFeastObjects, "registry", "entities"); err != nil {
				return err
			}
			m, err := f.msg(where)
			if err != nil {
				return err
			}
			e, err := decodeEntity(m, where)
			if err != nil {
				return err
			}
			r.Entities = append(r.Entities, e)
		case regFeatureViews:
			where := fmt.Sprintf("feature_views[%d]", nFV)
			if err := count(&nFV, limits.MaxFeastObjects, "registry", "feature views"); err != nil {
				return err
			}
			m, err := f.msg(where)
			if err != nil {
				return err
			}
			v, err := decodeFeatureView(m, where)
			if err != nil {
				return err
			}
			r.FeatureViews = append(r.FeatureViews, v)
		case regFeatureServices:
			where := fmt.Sprintf("feature_services[%d]", nFS)
			if err := count(&nFS, limits.MaxFeastObjects, "registry", "feature services"); err != nil {
				return err
			}
			m, err := f.msg(where)
			if err != nil {
				return err
			}
			s, err := decodeFeatureService(m, where)
			if err != nil {
				return err
			}
			r.FeatureServices = append(r.FeatureServices, s)
		case regDataSources:
			where := fmt.Sprintf("data_sources[%d]", nDS)
			if err := count(&nDS, limits.MaxFeastObjects, "registry", "data sources"); err != nil {
				return err
			}
			m, err := f.msg(where)
			if err != nil {
				return err
			}
			d, err := decodeDataSource(m, where)
			if err != nil {
				return err
			}
			r.DataSources = append(r.DataSources, d)
		case regProjects:
			where := fmt.Sprintf("projects[%d]", nProj)
			if err := count(&nProj, limits.MaxFeastObjects, "registry", "projects"); err != nil {
				return err
			}
			m, err := f.msg(where)
			if err != nil {
				return err
			}
			p, err := decodeProject(m, where)
			if err != nil {
				return err
			}
			r.Projects = append(r.Projects, p)
		case regVersionID:
			s, err := f.str("registry.version_id")
			if err != nil {
				return err
			}
			r.VersionID = s
		case regLastUpdated:
			m, err := f.msg("registry.last_updated")
			if err != nil {
				return err
			}
			t, err := decodeTimestamp(m, "registry.last_updated")
			if err != nil {
				return err
			}
			r.LastUpdated = t
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// DecodeEntity decodes a serialized feast.core.Entity (a SQL registry's entity_proto).
func DecodeEntity(b []byte) (Entity, error) { return decodeEntity(b, "entity") }

// DecodeFeatureView decodes a serialized feast.core.FeatureView (feature_view_proto).
func DecodeFeatureView(b []byte) (FeatureView, error) { return decodeFeatureView(b, "feature_view") }

// DecodeFeatureService decodes a serialized feast.core.FeatureService (feature_service_proto).
func DecodeFeatureService(b []byte) (FeatureService, error) {
	return decodeFeatureService(b, "feature_service")
}

// DecodeDataSource decodes a serialized feast.core.DataSource (data_source_proto).
func DecodeDataSource(b []byte) (DataSource, error) { return decodeDataSource(b, "data_source") }

// DecodeProject decodes a serialized feast.core.Project (project_proto).
func DecodeProject(b []byte) (Project, error) { return decodeProject(b, "project") }

// decodeSpecMeta splits a {spec=1, meta=2} message. A message field that occurs more than once
// is the merge of its occurrences (protobuf's rule), which for wire bytes is their concatenation.
func decodeSpecMeta(b []byte, where string) (spec, meta []byte, err error) {
	var specs, metas [][]byte
	err = walk(b, where, func(f field) error {
		switch f.num {
		case 1:
			m, err := f.msg(where + ".spec")
			specs = append(specs, m)
			return err
		case 2:
			m, err := f.msg(where + ".meta")
			metas = append(metas, m)
			return err
		}
		return nil
	})
	return concat(specs), concat(metas), err
}

// concat joins the occurrences of a message field (the one occurrence itself when single).
func concat(parts [][]byte) []byte {
	switch len(parts) {
	case 0:
		return nil
	case 1:
		return parts[0]
	}
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// decodeEntity: Entity {spec=1 EntitySpecV2, meta=2 EntityMeta}; EntitySpecV2 {name=1,
// value_type=2, description=3, join_key=4, tags=8, project=9}.
func decodeEntity(b []byte, where string) (Entity, error) {
	var e Entity
	spec, _, err := decodeSpecMeta(b, where)
	if err != nil {
		return e, err
	}
	w := where + ".spec"
	err = walk(spec, w, func(f field) error {
		var err error
		switch f.num {
		case 1:
			e.Name, err = f.str(w + ".name")
		case 2:
			var v int32
			v, err = f.enum(w + ".value_type")
			e.ValueType = ValueType(v)
		case 3:
			e.Description, err = f.str(w + ".description")
		case 4:
			e.JoinKey, err = f.str(w + ".join_key")
		case 9:
			e.Project, err = f.str(w + ".project")
		}
		return err
	})
	if err != nil {
		return e, err
	}
	if e.JoinKey == "" {
		e.JoinKey = e.Name // Feast's default (sdk/python/feast/entity.py)
	}
	return e, nil
}

// FeatureView spec and meta field numbers.
const (
	fvName             = 1
	fvProject          = 2
	fvEntities         = 3
	fvFeatures         = 4
	fvTags             = 5
	fvTTL              = 6
	fvBatchSource      = 7
	fvOnline           = 8
	fvOwner            = 11
	fvEntityColumns    = 12
	fvMetaCreated      = 1
	fvMetaUpdated      = 2
	fvMetaMaterialized = 3
)

// decodeFeatureView: FeatureView {spec=1, meta=2}; FeatureViewSpec {name=1, project=2,
// entities=3, features=4 FeatureSpecV2, tags=5, ttl=6 Duration, batch_source=7 DataSource,
// online=8, owner=11, entity_columns=12 FeatureSpecV2}; FeatureViewMeta {created_timestamp=1,
// last_updated_timestamp=2, materialization_intervals=3 {start_time=1, end_time=2}}.
func decodeFeatureView(b []byte, where string) (FeatureView, error) {
	var v FeatureView
	spec, meta, err := decodeSpecMeta(b, where)
	if err != nil {
		return v, err
	}
	w := where + ".spec"
	var nEnt, nFeat, nCols int
	err = walk(spec, w, func(f field) error {
		var err error
		switch f.num {
		case fvName:
			v.Name, err = f.str(w + ".name")
		case fvProject:
			v.Project, err = f.str(w + ".project")
		case fvEntities:
			if err = count(&nEnt, limits.MaxFeastFields, w, "entities"); err != nil {
				return err
			}
			var s string
			s, err = f.str(w + ".entities")
			v.Entities = append(v.Entities, s)
		case fvFeatures:
			if err = count(&nFeat, limits.MaxFeastFields, w, "features"); err != nil {
				return err
			}
			var fd Field
			fd, err = decodeFieldSpec(f, fmt.Sprintf("%s.features[%d]", w, nFeat-1))
			v.Features = append(v.Features, fd)
		case fvEntityColumns:
			if err = count(&nCols, limits.MaxFeastFields, w, "entity columns"); err != nil {
				return err
			}
			var fd Field
			fd, err = decodeFieldSpec(f, fmt.Sprintf("%s.entity_columns[%d]", w, nCols-1))
			v.EntityColumns = append(v.EntityColumns, fd)
		case fvTags:
			if v.Tags == nil {
				v.Tags = map[string]string{}
			}
			err = decodeMapEntry(f, w+".tags", v.Tags)
		case fvTTL:
			var m []byte
			if m, err = f.msg(w + ".ttl"); err != nil {
				return err
			}
			v.TTL, err = decodeDuration(m, w+".ttl")
		case fvBatchSource:
			var m []byte
			if m, err = f.msg(w + ".batch_source"); err != nil {
				return err
			}
			v.BatchSource, err = decodeDataSource(m, w+".batch_source")
		case fvOnline:
			var u uint64
			u, err = f.varint(w + ".online")
			v.Online = u != 0
		case fvOwner:
			v.Owner, err = f.str(w + ".owner")
		}
		return err
	})
	if err != nil {
		return v, err
	}
	w = where + ".meta"
	var nIv int
	err = walk(meta, w, func(f field) error {
		var err error
		var m []byte
		switch f.num {
		case fvMetaCreated:
			if m, err = f.msg(w + ".created_timestamp"); err != nil {
				return err
			}
			v.Created, err = decodeTimestamp(m, w+".created_timestamp")
		case fvMetaUpdated:
			if m, err = f.msg(w + ".last_updated_timestamp"); err != nil {
				return err
			}
			v.LastUpdated, err = decodeTimestamp(m, w+".last_updated_timestamp")
		case fvMetaMaterialized:
			iw := fmt.Sprintf("%s.materialization_intervals[%d]", w, nIv)
			if err = count(&nIv, limits.MaxFeastIntervals, w, "materialization intervals"); err != nil {
				return err
			}
			if m, err = f.msg(iw); err != nil {
				return err
			}
			var iv Interval
			iv, err = decodeInterval(m, iw)
			v.MaterializationIntervals = append(v.MaterializationIntervals, iv)
		}
		return err
	})
	return v, err
}

// decodeFieldSpec: FeatureSpecV2 {name=1, value_type=2}.
func decodeFieldSpec(f field, where string) (Field, error) {
	var out Field
	m, err := f.msg(where)
	if err != nil {
		return out, err
	}
	err = walk(m, where, func(f field) error {
		var err error
		switch f.num {
		case 1:
			out.Name, err = f.str(where + ".name")
		case 2:
			var v int32
			v, err = f.enum(where + ".value_type")
			out.ValueType = ValueType(v)
		}
		return err
	})
	return out, err
}

// decodeMapEntry reads one map<string,string> entry {key=1, value=2} into m (at most
// MaxFeastFields entries).
func decodeMapEntry(f field, where string, m map[string]string) error {
	b, err := f.msg(where)
	if err != nil {
		return err
	}
	var k, v string
	err = walk(b, where, func(f field) error {
		var err error
		switch f.num {
		case 1:
			k, err = f.str(where + ".key")
		case 2:
			v, err = f.str(where + ".value")
		}
		return err
	})
	if err != nil {
		return err
	}
	if _, dup := m[k]; !dup && len(m) >= limits.MaxFeastFields {
		return corrupt(where, "more than %d entries", limits.MaxFeastFields)
	}
	m[k] = v
	return nil
}

// decodeInterval: MaterializationInterval {start_time=1, end_time=2}.
func decodeInterval(b []byte, where string) (Interval, error) {
	var iv Interval
	err := walk(b, where, func(f field) error {
		var err error
		var m []byte
		switch f.num {
		case 1:
			if m, err = f.msg(where + ".start_time"); err != nil {
				return err
			}
			iv.Start, err = decodeTimestamp(m, where+".start_time")
		case 2:
			if m, err = f.msg(where + ".end_time"); err != nil {
				return err
			}
			iv.End, err = decodeTimestamp(m, where+".end_time")
		}
		return err
	})
	return iv, err
}

// secondsNanos reads a google.protobuf.Timestamp or Duration {seconds=1 int64, nanos=2 int32}.
func secondsNanos(b []byte, where string) (sec int64, nanos int32, err error) {
	err = walk(b, where, func(f field) error {
		switch f.num {
		case 1:
			u, err := f.varint(where + ".seconds")
			sec = int64(u) // #nosec G115 -- protobuf int64 fields are two's complement varints
			return err
		case 2:
			v, err := f.enum(where + ".nanos")
			nanos = v
			return err
		}
		return nil
	})
	return sec, nanos, err
}

// Timestamps outside years 1..9999 (google/protobuf/timestamp.proto's range) are corrupt.
const (
	minTimestamp = -62135596800
	maxTimestamp = 253402300799
)

func decodeTimestamp(b []byte, where string) (time.Time, error) {
	sec, nanos, err := secondsNanos(b, where)
	if err != nil {
		return time.Time{}, err
	}
	if sec < minTimestamp || sec > maxTimestamp || nanos < 0 || nanos >= 1e9 {
		return time.Time{}, corrupt(where, "timestamp out of range")
	}
	if sec == 0 && nanos == 0 {
		return time.Time{}, nil // unset
	}
	return time.Unix(sec, int64(nanos)).UTC(), nil
}

// decodeDuration reads a google.protobuf.Duration; negative or beyond time.Duration's range is
// corrupt.
func decodeDuration(b []byte, where string) (time.Duration, error) {
	sec, nanos, err := secondsNanos(b, where)
	if err != nil {
		return 0, err
	}
	if sec < 0 || nanos < 0 || nanos >= 1e9 || sec > math.MaxInt64/int64(time.Second)-1 {
		return 0, corrupt(where, "duration out of range")
	}
	return time.Duration(sec)*time.Second + time.Duration(nanos), nil
}

// DataSource field numbers (DataSource.proto).
const (
	dsType           = 1
	dsFieldMapping   = 2
	dsTimestampField = 3
	dsCreatedColumn  = 5
	dsFileOptions    = 11
	dsBigQuery       = 12
	dsRedshift       = 15
	dsCustom         = 16
	dsClass          = 17
	dsSnowflake      = 19
	dsName           = 20
	dsProject        = 21
	dsSpark          = 27
	dsTrino          = 30
	dsAthena         = 35
)

var sourceTypes = map[int32]string{
	0: "INVALID", 1: "BATCH_FILE", 2: "BATCH_BIGQUERY", 3: "STREAM_KAFKA", 4: "STREAM_KINESIS",
	5: "BATCH_REDSHIFT", 6: "CUSTOM_SOURCE", 7: "REQUEST_SOURCE", 8: "BATCH_SNOWFLAKE", 9: "PUSH_SOURCE",
	10: "BATCH_TRINO", 11: "BATCH_SPARK", 12: "BATCH_ATHENA",
}

func sourceTypeName(v int32) string {
	if n, ok := sourceTypes[v]; ok {
		return n
	}
	return fmt.Sprintf("SOURCE_TYPE_%d", v)
}

// decodeDataSource reads a DataSource: name=20, project=21, type=1, field_mapping=2,
// timestamp_field=3, created_timestamp_column=5, data_source_class_type=17, and the options that
// locate the data: file_options=11 {uri=2}; bigquery=12, redshift=15, snowflake=19, trino=30,
// athena=35 {table=1, query=2}; spark=27 {table=1, query=2, path=3}; custom_options=16
// {configuration=1}, which for Feast's PostgreSQLSource is JSON {"name","query","table"}.
func decodeDataSource(b []byte, where string) (DataSource, error) {
	var d DataSource
	err := walk(b, where, func(f field) error {
		var err error
		switch f.num {
		case dsName:
			d.Name, err = f.str(where + ".name")
		case dsProject:
			d.Project, err = f.str(where + ".project")
		case dsType:
			var v int32
			v, err = f.enum(where + ".type")
			d.Type = sourceTypeName(v)
		case dsFieldMapping:
			if d.FieldMapping == nil {
				d.FieldMapping = map[string]string{}
			}
			err = decodeMapEntry(f, where+".field_mapping", d.FieldMapping)
		case dsTimestampField:
			d.TimestampField, err = f.str(where + ".timestamp_field")
		case dsCreatedColumn:
			d.CreatedTimestampColumn, err = f.str(where + ".created_timestamp_column")
		case dsClass:
			d.Class, err = f.str(where + ".data_source_class_type")
		case dsFileOptions:
			err = decodeOptions(f, where+".file_options", map[protowire.Number]*string{2: &d.Path})
		case dsBigQuery, dsRedshift, dsSnowflake, dsTrino, dsAthena:
			err = decodeOptions(f, fmt.Sprintf("%s.options(%d)", where, f.num), map[protowire.Number]*string{1: &d.Table, 2: &d.Query})
		case dsSpark:
			err = decodeOptions(f, where+".spark_options", map[protowire.Number]*string{1: &d.Table, 2: &d.Query, 3: &d.Path})
		case dsCustom:
			var conf string
			ow := where + ".custom_options"
			var m []byte
			if m, err = f.msg(ow); err != nil {
				return err
			}
			err = walk(m, ow, func(f field) error {
				if f.num != 1 {
					return nil
				}
				b, err := f.msg(ow + ".configuration")
				conf = string(b)
				return err
			})
			if err == nil && conf != "" {
				d.Table, d.Query = customTableQuery(conf)
			}
		}
		return err
	})
	return d, err
}

// decodeOptions reads the string fields of an options message into the named targets.
func decodeOptions(f field, where string, into map[protowire.Number]*string) error {
	m, err := f.msg(where)
	if err != nil {
		return err
	}
	return walk(m, where, func(f field) error {
		p, ok := into[f.num]
		if !ok {
			return nil
		}
		s, err := f.str(where)
		*p = s
		return err
	})
}

// customTableQuery reads the table and query of a custom source's JSON configuration (Feast's
// PostgreSQLSource writes {"name","query","table"}); other configurations give nothing.
func customTableQuery(conf string) (table, query string) {
	var c struct {
		Table string `json:"table"`
		Query string `json:"query"`
	}
	if json.Unmarshal([]byte(conf), &c) != nil {
		return "", ""
	}
	return strings.TrimSpace(c.Table), strings.TrimSpace(c.Query)
}

// decodeFeatureService: FeatureService {spec=1, meta=2}; FeatureServiceSpec {name=1, project=2,
// features=3 FeatureViewProjection {feature_view_name=1, feature_columns=2}, description=5,
// owner=6, logging_config=7 {sample_rate=1 float}}.
func decodeFeatureService(b []byte, where string) (FeatureService, error) {
	var s FeatureService
	spec, _, err := decodeSpecMeta(b, where)
	if err != nil {
		return s, err
	}
	w := where + ".spec"
	var nProj int
	err = walk(spec, w, func(f field) error {
		var err error
		switch f.num {
		case 1:
			s.Name, err = f.str(w + ".name")
		case 2:
			s.Project, err = f.str(w + ".project")
		case 3:
			pw := fmt.Sprintf("%s.features[%d]", w, nProj)
			if err = count(&nProj, limits.MaxFeastFields, w, "feature view projections"); err != nil {
				return err
			}
			var p FeatureViewProjection
			p, err = decodeProjection(f, pw)
			s.Features = append(s.Features, p)
		case 5:
			s.Description, err = f.str(w + ".description")
		case 6:
			s.Owner, err = f.str(w + ".owner")
		case 7:
			lw := w + ".logging_config"
			var m []byte
			if m, err = f.msg(lw); err != nil {
				return err
			}
			err = walk(m, lw, func(f field) error {
				if f.num != 1 {
					return nil
				}
				if err := f.want(lw+".sample_rate", protowire.Fixed32Type); err != nil {
					return err
				}
				s.LoggingSampleRate = math.Float32frombits(uint32(f.u)) // #nosec G115 -- a fixed32 payload fits 32 bits
				return nil
			})
		}
		return err
	})
	return s, err
}

func decodeProjection(f field, where string) (FeatureViewProjection, error) {
	var p FeatureViewProjection
	m, err := f.msg(where)
	if err != nil {
		return p, err
	}
	var n int
	err = walk(m, where, func(f field) error {
		var err error
		switch f.num {
		case 1:
			p.FeatureView, err = f.str(where + ".feature_view_name")
		case 2:
			if err = count(&n, limits.MaxFeastFields, where, "features"); err != nil {
				return err
			}
			var fd Field
			fd, err = decodeFieldSpec(f, fmt.Sprintf("%s.feature_columns[%d]", where, n-1))
			p.Features = append(p.Features, fd)
		}
		return err
	})
	return p, err
}

// decodeProject: Project {spec=1 {name=1, description=2, tags=3, owner=4}, meta=2
// {created_timestamp=1, last_updated_timestamp=2}}.
func decodeProject(b []byte, where string) (Project, error) {
	var p Project
	spec, meta, err := decodeSpecMeta(b, where)
	if err != nil {
		return p, err
	}
	w := where + ".spec"
	err = walk(spec, w, func(f field) error {
		var err error
		switch f.num {
		case 1:
			p.Name, err = f.str(w + ".name")
		case 2:
			p.Description, err = f.str(w + ".description")
		case 4:
			p.Owner, err = f.str(w + ".owner")
		}
		return err
	})
	if err != nil {
		return p, err
	}
	w = where + ".meta"
	err = walk(meta, w, func(f field) error {
		var err error
		var m []byte
		switch f.num {
		case 1:
			if m, err = f.msg(w + ".created_timestamp"); err != nil {
				return err
			}
			p.Created, err = decodeTimestamp(m, w+".created_timestamp")
		case 2:
			if m, err = f.msg(w + ".last_updated_timestamp"); err != nil {
				return err
			}
			p.LastUpdated, err = decodeTimestamp(m, w+".last_updated_timestamp")
		}
		return err
	})
	return p, err
}
