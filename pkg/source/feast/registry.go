// Package feast reads a Feast feature store: its registry (a file, a SQL registry in PostgreSQL or
// the REST registry server), decoded from Feast's protobuf wire format by field number (the field
// numbers are those of feast-dev/feast at commit f0bc0700, v0.66; see the README).
//
// The registry model here is what the Feast query types, resources and the online/offline store
// readers share: projects, entities, feature views (features and their value types, ttl, online
// flag, batch source, materialization intervals) and feature services.
package feast

import (
	"context"
	"strconv"
	"time"
)

// ValueType is Feast's feast.types.ValueType.Enum (protos/feast/types/Value.proto); the ValueProto
// oneof uses the same numbers for its value fields.
type ValueType int32

// Feast value types.
const (
	ValueInvalid       ValueType = 0
	ValueBytes         ValueType = 1
	ValueString        ValueType = 2
	ValueInt32         ValueType = 3
	ValueInt64         ValueType = 4
	ValueDouble        ValueType = 5
	ValueFloat         ValueType = 6
	ValueBool          ValueType = 7
	ValueUnixTimestamp ValueType = 8
	ValueBytesList     ValueType = 11
	ValueStringList    ValueType = 12
	ValueInt32List     ValueType = 13
	ValueInt64List     ValueType = 14
	ValueDoubleList    ValueType = 15
	ValueFloatList     ValueType = 16
	ValueBoolList      ValueType = 17
	ValueTimestampList ValueType = 18
	ValueNull          ValueType = 19
)

var valueTypeNames = map[ValueType]string{
	ValueInvalid: "INVALID", ValueBytes: "BYTES", ValueString: "STRING", ValueInt32: "INT32",
	ValueInt64: "INT64", ValueDouble: "DOUBLE", ValueFloat: "FLOAT", ValueBool: "BOOL",
	ValueUnixTimestamp: "UNIX_TIMESTAMP", ValueBytesList: "BYTES_LIST", ValueStringList: "STRING_LIST",
	ValueInt32List: "INT32_LIST", ValueInt64List: "INT64_LIST", ValueDoubleList: "DOUBLE_LIST",
	ValueFloatList: "FLOAT_LIST", ValueBoolList: "BOOL_LIST", ValueTimestampList: "UNIX_TIMESTAMP_LIST",
	ValueNull: "NULL",
}

// String is Feast's enum name (INT64, STRING_LIST, ...), or "VALUE_TYPE_<n>" for a number this
// version does not know.
func (v ValueType) String() string {
	if n, ok := valueTypeNames[v]; ok {
		return n
	}
	return "VALUE_TYPE_" + strconv.Itoa(int(v))
}

// Numeric reports whether values of the type are numbers (int32, int64, float, double, bool and
// unix timestamps are read as numbers; the rest are categorical or lists).
func (v ValueType) Numeric() bool {
	switch v {
	case ValueInt32, ValueInt64, ValueDouble, ValueFloat, ValueBool, ValueUnixTimestamp:
		return true
	}
	return false
}

// Registry is the decoded content of a Feast registry, restricted to what ModelLens reads.
type Registry struct {
	Projects        []Project
	Entities        []Entity
	FeatureViews    []FeatureView
	FeatureServices []FeatureService
	// DataSources are the registry's standalone data sources (Registry.data_sources).
	DataSources []DataSource
	// LastUpdated is the registry's last_updated timestamp (zero when absent).
	LastUpdated time.Time
	// VersionID is the registry's version_id (file registries).
	VersionID string
}

// Project is one Feast project (Registry.projects; older registries have none and name projects
// only on their objects).
type Project struct {
	Name        string
	Description string
	Owner       string
	Created     time.Time
	LastUpdated time.Time
}

// Entity is a Feast entity: a join key and its value type.
type Entity struct {
	Name    string
	Project string
	// JoinKey is the entity's column name in feature views and online keys (Feast defaults it to
	// the entity's name).
	JoinKey string
	// ValueType may be ValueInvalid (unset) in the registry: the join key's type is then in the
	// feature views' EntityColumns.
	ValueType   ValueType
	Description string
}

// Field is a named, typed column: a feature (FeatureSpecV2) or an entity column.
type Field struct {
	Name      string
	ValueType ValueType
}

// Interval is one materialization interval [Start, End] of a feature view.
type Interval struct {
	Start time.Time
	End   time.Time
}

// DataSource is a Feast data source: where a feature view's batch data lives.
type DataSource struct {
	Name    string
	Project string
	// Type is Feast's DataSource.SourceType name (BATCH_FILE, CUSTOM_SOURCE, ...).
	Type string
	// Class is data_source_class_type, the Python class (e.g.
	// "feast.infra.offline_stores.contrib.postgres_offline_store.postgres_source.PostgreSQLSource").
	Class string
	// Table, Query and Path locate the data, as the source's options give them (a file source has
	// a Path; SQL sources a Table or a Query).
	Table string
	Query string
	Path  string
	// TimestampField is the event-time column; CreatedTimestampColumn the optional tie-breaker.
	TimestampField         string
	CreatedTimestampColumn string
	// FieldMapping renames source columns to feature names (source column → feature name).
	FieldMapping map[string]string
}

// FeatureView is one Feast feature view.
type FeatureView struct {
	Name    string
	Project string
	// Entities are the names of the view's entities.
	Entities []string
	Features []Field
	// EntityColumns are the view's join-key columns with their types (FeatureViewSpec field 12).
	EntityColumns []Field
	// TTL is the view's time to live; 0 means values never expire.
	TTL    time.Duration
	Online bool
	// BatchSource is the view's batch source (zero when the view has none).
	BatchSource DataSource
	// MaterializationIntervals are the intervals materialized into the online store, in
	// registry order.
	MaterializationIntervals []Interval
	Created                  time.Time
	LastUpdated              time.Time
	Owner                    string
	Tags                     map[string]string
}

// LastMaterialized is the latest end of the view's materialization intervals (zero when the view
// was never materialized).
func (v *FeatureView) LastMaterialized() time.Time {
	var t time.Time
	for _, iv := range v.MaterializationIntervals {
		if iv.End.After(t) {
			t = iv.End
		}
	}
	return t
}

// FeatureByName returns the view's feature of that name.
func (v *FeatureView) FeatureByName(name string) (Field, bool) {
	for _, f := range v.Features {
		if f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// FeatureViewProjection is a feature service's selection of one feature view's features.
type FeatureViewProjection struct {
	FeatureView string
	Features    []Field
}

// FeatureService is one Feast feature service.
type FeatureService struct {
	Name        string
	Project     string
	Features    []FeatureViewProjection
	Description string
	Owner       string
	// LoggingSampleRate is the feature logging sample rate (0 when logging is off).
	LoggingSampleRate float32
}

// FeatureView returns the view of that name in the registry's project (or any project when
// project is empty).
func (r *Registry) FeatureView(project, name string) (*FeatureView, bool) {
	for i := range r.FeatureViews {
		v := &r.FeatureViews[i]
		if v.Name == name && (project == "" || v.Project == project) {
			return v, true
		}
	}
	return nil, false
}

// Entity returns the entity of that name.
func (r *Registry) Entity(project, name string) (*Entity, bool) {
	for i := range r.Entities {
		e := &r.Entities[i]
		if e.Name == name && (project == "" || e.Project == project) {
			return e, true
		}
	}
	return nil, false
}

// JoinKeys returns a view's join keys with their value types: each entity's join key, typed by
// the view's entity columns when the entity's own value type is unset.
func (r *Registry) JoinKeys(v *FeatureView) []Field {
	out := make([]Field, 0, len(v.Entities))
	for _, name := range v.Entities {
		key, vt := name, ValueInvalid
		if e, ok := r.Entity(v.Project, name); ok {
			if e.JoinKey != "" {
				key = e.JoinKey
			}
			vt = e.ValueType
		}
		if vt == ValueInvalid {
			for _, c := range v.EntityColumns {
				if c.Name == key {
					vt = c.ValueType
				}
			}
		}
		out = append(out, Field{Name: key, ValueType: vt})
	}
	return out
}

// RegistryReader reads a Feast registry (file, SQL or REST); implementations are safe for
// concurrent use.
type RegistryReader interface {
	Registry(ctx context.Context) (*Registry, error)
}

// OnlineStore is what the freshness query needs of a Feast online store: the newest event
// timestamp stored for a feature view (over all its entities).
type OnlineStore interface {
	NewestEventTime(ctx context.Context, view *FeatureView) (NewestEvent, error)
}

// NewestEvent is the newest event timestamp of a feature view in the online store.
type NewestEvent struct {
	// Time is the newest event time found; zero when no row of the view was found.
	Time time.Time
	// ScanCapped is the number of keys a store without an index of event times (Redis) stopped
	// scanning at before the end (0: every key was looked at). Time is then the newest among the
	// keys scanned: a lower bound of the true newest event time.
	ScanCapped int
}
