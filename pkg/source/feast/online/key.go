package online

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"unicode/utf8"
)

// Entity-key serialization versions (RepoConfig.entity_key_serialization_version). Version 3 is
// Feast's default from v0.50.0; version 2 was the default before (with version 1 earlier still).
const (
	KeyV2 = 2
	KeyV3 = 3
	// DefaultKeyVersion is the version used when the settings give none.
	DefaultKeyVersion = KeyV3
)

// EntityKey is a feast.types.EntityKey: join keys and their values, in any order.
type EntityKey struct {
	JoinKeys []string
	Values   []Value
}

// ErrBadKey wraps every error of the entity-key decoders.
var ErrBadKey = errors.New("invalid serialized entity key")

func badKey(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadKey, fmt.Sprintf(format, args...))
}

// CheckKeyVersion reports an error for a version this package does not read.
func CheckKeyVersion(version int) error {
	if version != KeyV2 && version != KeyV3 {
		return fmt.Errorf("entity key serialization version %d is not supported (2 or 3; Feast's default is 3 since v0.50.0)", version)
	}
	return nil
}

// keyValueBytes is Feast's _serialize_val: the type and payload of one entity value.
func keyValueBytes(v Value, version int) (ValueType, []byte, error) {
	switch v.Type {
	case TypeString:
		return TypeString, []byte(v.Str), nil
	case TypeBytes:
		return TypeBytes, v.Bytes, nil
	case TypeInt32:
		if v.Int < math.MinInt32 || v.Int > math.MaxInt32 {
			return 0, nil, fmt.Errorf("int32 entity value %d out of range", v.Int)
		}
		return TypeInt32, binary.LittleEndian.AppendUint32(nil, uint32(int32(v.Int))), nil // #nosec G115 -- checked range
	case TypeInt64:
		if version <= 1 {
			return 0, nil, errors.New("entity key serialization version 1 is not supported")
		}
		return TypeInt64, binary.LittleEndian.AppendUint64(nil, uint64(v.Int)), nil // #nosec G115 -- two's complement
	case TypeUnixTimestamp:
		return TypeUnixTimestamp, binary.LittleEndian.AppendUint64(nil, uint64(v.Int)), nil // #nosec G115 -- two's complement
	}
	return 0, nil, fmt.Errorf("entity values of type %s cannot be serialized (Feast accepts STRING, BYTES, INT32, INT64, UNIX_TIMESTAMP)", v.Type)
}

// sortedKey returns the key's join keys and values sorted by join key (Feast sorts the
// (join key, value) pairs; join keys are distinct).
func sortedKey(k EntityKey) ([]string, []Value, error) {
	if len(k.JoinKeys) != len(k.Values) {
		return nil, nil, fmt.Errorf("entity key has %d join keys and %d values", len(k.JoinKeys), len(k.Values))
	}
	if len(k.JoinKeys) == 0 {
		return nil, nil, errors.New("entity key has no join keys")
	}
	idx := make([]int, len(k.JoinKeys))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return k.JoinKeys[idx[a]] < k.JoinKeys[idx[b]] })
	keys := make([]string, len(idx))
	vals := make([]Value, len(idx))
	for i, j := range idx {
		keys[i], vals[i] = k.JoinKeys[j], k.Values[j]
		if i > 0 && keys[i] == keys[i-1] {
			return nil, nil, fmt.Errorf("join key %q appears twice", keys[i])
		}
	}
	return keys, vals, nil
}

// SerializeEntityKey is Feast's serialize_entity_key (sdk/python/feast/infra/key_encoding_utils.py).
// Version 3: u32 LE count of keys; per join key, sorted: u32 type STRING (2), u32 length, UTF-8
// bytes; then per value: u32 ValueType, u32 length, payload (int64 and unix_timestamp 8 bytes LE,
// int32 4, string UTF-8, bytes raw). Version 2 is the same without the count and the key lengths.
func SerializeEntityKey(k EntityKey, version int) ([]byte, error) {
	if err := CheckKeyVersion(version); err != nil {
		return nil, err
	}
	keys, vals, err := sortedKey(k)
	if err != nil {
		return nil, err
	}
	out := KeyPrefix(keys, version)
	for _, v := range vals {
		t, payload, err := keyValueBytes(v, version)
		if err != nil {
			return nil, err
		}
		out = binary.LittleEndian.AppendUint32(out, uint32(t))            // #nosec G115 -- small enum
		out = binary.LittleEndian.AppendUint32(out, uint32(len(payload))) // #nosec G115 -- Feast writes the payload length as a 4-byte unsigned; payloads are capped far below 4 GiB
		out = append(out, payload...)
	}
	return out, nil
}

// KeyPrefix is Feast's serialize_entity_key_prefix: the join-key part of a serialized entity key
// for these join keys (sorted here), which every key of an entity set starts with.
func KeyPrefix(joinKeys []string, version int) []byte {
	keys := append([]string(nil), joinKeys...)
	sort.Strings(keys)
	var out []byte
	if version > 2 {
		out = binary.LittleEndian.AppendUint32(out, uint32(len(keys))) // #nosec G115 -- Feast writes the key count as a 4-byte unsigned; join keys are capped at 64
	}
	for _, k := range keys {
		out = binary.LittleEndian.AppendUint32(out, uint32(TypeString))
		if version > 2 {
			out = binary.LittleEndian.AppendUint32(out, uint32(len(k))) // #nosec G115 -- Feast writes the key length as a 4-byte unsigned; names are short
		}
		out = append(out, k...)
	}
	return out
}

// maxKeyParts bounds the join keys and values a decoded key may claim (a corrupt count must not
// allocate): Feast entity sets have a handful of join keys.
const maxKeyParts = 64

// DeserializeEntityKey decodes a version-3 serialized entity key (Feast's deserialize_entity_key).
// The whole input must be consumed.
func DeserializeEntityKey(b []byte) (EntityKey, error) {
	r := keyReader{b: b}
	n, err := r.u32("key count")
	if err != nil {
		return EntityKey{}, err
	}
	if n == 0 || n > maxKeyParts {
		return EntityKey{}, badKey("key count %d outside [1, %d]", n, maxKeyParts)
	}
	var k EntityKey
	for i := 0; i < int(n); i++ {
		t, err := r.u32("join key type")
		if err != nil {
			return EntityKey{}, err
		}
		if ValueType(t) != TypeString { // #nosec G115 -- compared only
			return EntityKey{}, badKey("join key %d has type %d, want STRING (2)", i, t)
		}
		l, err := r.u32("join key length")
		if err != nil {
			return EntityKey{}, err
		}
		s, err := r.take(int(l), "join key")
		if err != nil {
			return EntityKey{}, err
		}
		if !utf8.Valid(s) {
			return EntityKey{}, badKey("join key %d is not UTF-8", i)
		}
		k.JoinKeys = append(k.JoinKeys, string(s))
	}
	if err := r.values(&k); err != nil {
		return EntityKey{}, err
	}
	if len(k.Values) != len(k.JoinKeys) {
		return EntityKey{}, badKey("%d join keys but %d values", len(k.JoinKeys), len(k.Values))
	}
	return k, nil
}

// DeserializeEntityKeyV2 decodes a version-2 serialized entity key whose join keys are known
// (version 2 does not record key lengths, so the key names cannot be split without them): the key
// must start with KeyPrefix(joinKeys, 2), followed by one value per join key.
func DeserializeEntityKeyV2(b []byte, joinKeys []string) (EntityKey, error) {
	if len(joinKeys) == 0 || len(joinKeys) > maxKeyParts {
		return EntityKey{}, badKey("%d join keys outside [1, %d]", len(joinKeys), maxKeyParts)
	}
	prefix := KeyPrefix(joinKeys, KeyV2)
	if !bytes.HasPrefix(b, prefix) {
		return EntityKey{}, badKey("does not start with the version-2 encoding of join keys %q", joinKeys)
	}
	r := keyReader{b: b[len(prefix):]}
	k := EntityKey{JoinKeys: append([]string(nil), joinKeys...)}
	sort.Strings(k.JoinKeys)
	if err := r.values(&k); err != nil {
		return EntityKey{}, err
	}
	if len(k.Values) != len(k.JoinKeys) {
		return EntityKey{}, badKey("%d join keys but %d values", len(k.JoinKeys), len(k.Values))
	}
	return k, nil
}

type keyReader struct{ b []byte }

func (r *keyReader) u32(what string) (uint32, error) {
	if len(r.b) < 4 {
		return 0, badKey("truncated at the %s", what)
	}
	x := binary.LittleEndian.Uint32(r.b)
	r.b = r.b[4:]
	return x, nil
}

func (r *keyReader) take(n int, what string) ([]byte, error) {
	if n < 0 || n > len(r.b) {
		return nil, badKey("%s of %d bytes runs past the end (%d left)", what, n, len(r.b))
	}
	s := r.b[:n]
	r.b = r.b[n:]
	return s, nil
}

// values reads (type, length, payload) triples until the input ends.
func (r *keyReader) values(k *EntityKey) error {
	for len(r.b) > 0 {
		if len(k.Values) >= maxKeyParts {
			return badKey("more than %d values", maxKeyParts)
		}
		t, err := r.u32("value type")
		if err != nil {
			return err
		}
		l, err := r.u32("value length")
		if err != nil {
			return err
		}
		p, err := r.take(int(l), "value")
		if err != nil {
			return err
		}
		var v Value
		switch ValueType(t) { // #nosec G115 -- compared only
		case TypeString:
			if !utf8.Valid(p) {
				return badKey("string value is not UTF-8")
			}
			v = String(string(p))
		case TypeBytes:
			v = Bytes(append([]byte(nil), p...))
		case TypeInt32:
			if len(p) != 4 {
				return badKey("INT32 value of %d bytes", len(p))
			}
			v = Int32(int32(binary.LittleEndian.Uint32(p))) // #nosec G115 -- two's complement
		case TypeInt64, TypeUnixTimestamp:
			if len(p) != 8 {
				return badKey("%s value of %d bytes (8 expected; version-1 keys use 4)", ValueType(t), len(p)) // #nosec G115 -- small enum
			}
			v = Value{Type: ValueType(t), Int: int64(binary.LittleEndian.Uint64(p))} // #nosec G115 -- two's complement
		default:
			return badKey("value type %d is not an entity key type", t)
		}
		k.Values = append(k.Values, v)
	}
	return nil
}

// DetectKeyVersion looks at keys actually stored for an entity set with these join keys and says
// which serialization version wrote them: 3 or 2 when every key that starts with either encoding
// of the join keys starts with that version's, 0 when none does (the store holds no keys of this
// entity set, or keys of another layout).
func DetectKeyVersion(stored [][]byte, joinKeys []string) int {
	p3, p2 := KeyPrefix(joinKeys, KeyV3), KeyPrefix(joinKeys, KeyV2)
	var n3, n2 int
	for _, k := range stored {
		switch {
		case bytes.HasPrefix(k, p3):
			n3++
		case bytes.HasPrefix(k, p2):
			n2++
		}
	}
	switch {
	case n3 > 0 && n2 == 0:
		return KeyV3
	case n2 > 0 && n3 == 0:
		return KeyV2
	}
	return 0
}
