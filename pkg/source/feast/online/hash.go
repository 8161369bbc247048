package online

import (
	"encoding/binary"

	"github.com/spaolacci/murmur3"
)

// FieldHash is the Redis hash field of a feature: the 32-bit murmur3 hash (seed 0) of
// "{view}:{feature}", 4 bytes little-endian (Feast's _mmh3 in sdk/python/feast/infra/online_stores/helpers.py;
// its Go reader uses spaolacci/murmur3 the same way).
func FieldHash(view, feature string) []byte {
	return binary.LittleEndian.AppendUint32(nil, murmur3.Sum32([]byte(view+":"+feature)))
}

// TimestampField is the Redis hash field holding a view's event timestamp, "_ts:{view}".
func TimestampField(view string) string { return "_ts:" + view }

// RedisKey is the Redis key of an entity in a project: the serialized entity key followed by the
// project name in UTF-8 (Feast's _redis_key).
func RedisKey(serializedKey []byte, project string) []byte {
	out := make([]byte, 0, len(serializedKey)+len(project))
	return append(append(out, serializedKey...), project...)
}

// PostgresTable is the name of a view's table in Feast's PostgreSQL online store, "{project}_{view}"
// (to be quoted as an identifier).
func PostgresTable(project, view string) string { return project + "_" + view }
