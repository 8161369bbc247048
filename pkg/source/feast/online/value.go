// Package online reads Feast's online stores (Redis and PostgreSQL) in Feast's own layout: entity
// keys serialized as Feast serializes them (version 3, the default since Feast 0.50, or version 2),
// Redis hash fields named by 32-bit murmur3 hashes of "{view}:{feature}", `_ts:{view}` event
// timestamps, and values as serialized feast.types.Value protobufs. Everything is decoded with
// protowire by field number (protos/feast/types/Value.proto, EntityKey.proto and
// google/protobuf/timestamp.proto of feast-dev/feast v0.66).
package online

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// ValueType is Feast's ValueType.Enum; its numbers are also the field numbers of the Value oneof.
type ValueType int32

// Value types (protos/feast/types/Value.proto).
const (
	TypeInvalid           ValueType = 0
	TypeBytes             ValueType = 1
	TypeString            ValueType = 2
	TypeInt32             ValueType = 3
	TypeInt64             ValueType = 4
	TypeDouble            ValueType = 5
	TypeFloat             ValueType = 6
	TypeBool              ValueType = 7
	TypeUnixTimestamp     ValueType = 8
	TypeBytesList         ValueType = 11
	TypeStringList        ValueType = 12
	TypeInt32List         ValueType = 13
	TypeInt64List         ValueType = 14
	TypeDoubleList        ValueType = 15
	TypeFloatList         ValueType = 16
	TypeBoolList          ValueType = 17
	TypeUnixTimestampList ValueType = 18
	TypeNull              ValueType = 19
	TypeMap               ValueType = 20
	TypeMapList           ValueType = 21
	TypeBytesSet          ValueType = 22
	TypeStringSet         ValueType = 23
	TypeInt32Set          ValueType = 24
	TypeInt64Set          ValueType = 25
	TypeDoubleSet         ValueType = 26
	TypeFloatSet          ValueType = 27
	TypeBoolSet           ValueType = 28
	TypeUnixTimestampSet  ValueType = 29
	TypeUUID              ValueType = 30
	TypeTimeUUID          ValueType = 31
	TypeUUIDList          ValueType = 32
	TypeTimeUUIDList      ValueType = 33
)

var typeNames = map[ValueType]string{
	TypeInvalid: "INVALID", TypeBytes: "BYTES", TypeString: "STRING", TypeInt32: "INT32", TypeInt64: "INT64",
	TypeDouble: "DOUBLE", TypeFloat: "FLOAT", TypeBool: "BOOL", TypeUnixTimestamp: "UNIX_TIMESTAMP",
	TypeBytesList: "BYTES_LIST", TypeStringList: "STRING_LIST", TypeInt32List: "INT32_LIST",
	TypeInt64List: "INT64_LIST", TypeDoubleList: "DOUBLE_LIST", TypeFloatList: "FLOAT_LIST",
	TypeBoolList: "BOOL_LIST", TypeUnixTimestampList: "UNIX_TIMESTAMP_LIST", TypeNull: "NULL", TypeMap: "MAP",
	TypeMapList: "MAP_LIST", TypeBytesSet: "BYTES_SET", TypeStringSet: "STRING_SET", TypeInt32Set: "INT32_SET",
	TypeInt64Set: "INT64_SET", TypeDoubleSet: "DOUBLE_SET", TypeFloatSet: "FLOAT_SET", TypeBoolSet: "BOOL_SET",
	TypeUnixTimestampSet: "UNIX_TIMESTAMP_SET", TypeUUID: "UUID", TypeTimeUUID: "TIME_UUID",
	TypeUUIDList: "UUID_LIST", TypeTimeUUIDList: "TIME_UUID_LIST",
}

func (t ValueType) String() string {
	if s, ok := typeNames[t]; ok {
		return s
	}
	return "ValueType(" + strconv.Itoa(int(t)) + ")"
}

// elemType is the scalar type of a list or set type's elements (TypeInvalid for a scalar or a map).
func (t ValueType) elemType() ValueType {
	switch t {
	case TypeBytesList, TypeBytesSet:
		return TypeBytes
	case TypeStringList, TypeStringSet, TypeUUIDList, TypeTimeUUIDList:
		return TypeString
	case TypeInt32List, TypeInt32Set:
		return TypeInt32
	case TypeInt64List, TypeInt64Set:
		return TypeInt64
	case TypeDoubleList, TypeDoubleSet:
		return TypeDouble
	case TypeFloatList, TypeFloatSet:
		return TypeFloat
	case TypeBoolList, TypeBoolSet:
		return TypeBool
	case TypeUnixTimestampList, TypeUnixTimestampSet:
		return TypeUnixTimestamp
	}
	return TypeInvalid
}

// IsList reports whether t is a list or set type (whose values are in Value.List).
func (t ValueType) IsList() bool { return t.elemType() != TypeInvalid }

// Value is a decoded feast.types.Value. Type is the oneof field that was set (TypeInvalid when
// none was: an empty message). Scalars use one of Int (int32, int64, unix_timestamp: seconds),
// Float (double, float), Str (string, uuid, time_uuid), Bytes, Bool; list and set types hold their
// elements, scalars of the element type, in List. A map value is kept as its raw bytes in Bytes.
type Value struct {
	Type  ValueType
	Int   int64
	Float float64
	Str   string
	Bytes []byte
	Bool  bool
	List  []Value
}

// Convenience constructors for scalar values.
func Int64(v int64) Value     { return Value{Type: TypeInt64, Int: v} }
func Int32(v int32) Value     { return Value{Type: TypeInt32, Int: int64(v)} }
func String(v string) Value   { return Value{Type: TypeString, Str: v} }
func Double(v float64) Value  { return Value{Type: TypeDouble, Float: v} }
func Float(v float32) Value   { return Value{Type: TypeFloat, Float: float64(v)} }
func Bool(v bool) Value       { return Value{Type: TypeBool, Bool: v} }
func Bytes(v []byte) Value    { return Value{Type: TypeBytes, Bytes: v} }
func Null() Value             { return Value{Type: TypeNull} }
func Timestamp(v int64) Value { return Value{Type: TypeUnixTimestamp, Int: v} }

// IsNull reports whether the value is null: null_val set, or no field set at all (Feast writes an
// empty Value for a missing feature value).
func (v Value) IsNull() bool { return v.Type == TypeNull || v.Type == TypeInvalid }

// Number returns a numeric scalar as float64 (bools as 0/1); false for other types and nulls.
func (v Value) Number() (float64, bool) {
	switch v.Type {
	case TypeInt32, TypeInt64, TypeUnixTimestamp:
		return float64(v.Int), true
	case TypeDouble, TypeFloat:
		return v.Float, true
	case TypeBool:
		if v.Bool {
			return 1, true
		}
		return 0, true
	}
	return 0, false
}

// Text returns a scalar as the text a categorical comparison uses (numbers as Go's shortest
// representation, bools as true/false, bytes as Go-quoted text); false for lists, maps and nulls.
func (v Value) Text() (string, bool) {
	switch v.Type {
	case TypeString, TypeUUID, TypeTimeUUID:
		return v.Str, true
	case TypeBytes:
		return strconv.Quote(string(v.Bytes)), true
	case TypeInt32, TypeInt64, TypeUnixTimestamp:
		return strconv.FormatInt(v.Int, 10), true
	case TypeDouble:
		return strconv.FormatFloat(v.Float, 'g', -1, 64), true
	case TypeFloat:
		return strconv.FormatFloat(v.Float, 'g', -1, 32), true
	case TypeBool:
		return strconv.FormatBool(v.Bool), true
	}
	return "", false
}

func (v Value) String() string {
	if v.IsNull() {
		return "null"
	}
	if s, ok := v.Text(); ok {
		return v.Type.String() + "(" + s + ")"
	}
	return fmt.Sprintf("%s(%d elements)", v.Type, len(v.List))
}

// ErrBadValue wraps every error of DecodeValue.
var ErrBadValue = errors.New("invalid feast.types.Value")

func badValue(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadValue, fmt.Sprintf(format, args...))
}

// DecodeValue decodes a serialized feast.types.Value. Unknown fields are skipped (a newer Feast
// may add types); when several oneof fields are present the last wins, as in protobuf.
func DecodeValue(b []byte) (Value, error) {
	var v Value
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return Value{}, badValue("tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		vt := ValueType(num)
		var err error
		switch {
		case vt >= TypeBytes && vt <= TypeUnixTimestamp || vt == TypeUUID || vt == TypeTimeUUID:
			var s Value
			s, n, err = consumeScalar(b, vt, typ)
			if err == nil {
				v = s
			}
		case vt == TypeNull:
			if typ != protowire.VarintType {
				return Value{}, badValue("null_val has wire type %d", typ)
			}
			_, n = protowire.ConsumeVarint(b)
			v = Value{Type: TypeNull}
		case vt.IsList():
			var raw []byte
			if typ != protowire.BytesType {
				return Value{}, badValue("field %d (%s) has wire type %d", num, vt, typ)
			}
			raw, n = protowire.ConsumeBytes(b)
			if n >= 0 {
				var elems []Value
				elems, err = decodeList(raw, vt.elemType())
				v = Value{Type: vt, List: elems}
			}
		case vt == TypeMap || vt == TypeMapList:
			var raw []byte
			if typ != protowire.BytesType {
				return Value{}, badValue("field %d (%s) has wire type %d", num, vt, typ)
			}
			raw, n = protowire.ConsumeBytes(b)
			v = Value{Type: vt, Bytes: raw}
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if err != nil {
			return Value{}, err
		}
		if n < 0 {
			return Value{}, badValue("field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
	}
	return v, nil
}

// consumeScalar reads one scalar of type t with wire type typ from b.
func consumeScalar(b []byte, t ValueType, typ protowire.Type) (Value, int, error) {
	want := scalarWireType(t)
	if typ != want {
		return Value{}, 0, badValue("field %d (%s) has wire type %d, want %d", t, t, typ, want)
	}
	v := Value{Type: t}
	var n int
	switch typ {
	case protowire.BytesType:
		var raw []byte
		raw, n = protowire.ConsumeBytes(b)
		if t == TypeBytes {
			v.Bytes = raw
		} else {
			v.Str = string(raw)
		}
	case protowire.VarintType:
		var x uint64
		x, n = protowire.ConsumeVarint(b)
		switch t {
		case TypeInt32:
			v.Int = int64(int32(x)) // #nosec G115 -- protobuf int32 is the low 32 bits of the varint
		case TypeBool:
			v.Bool = x != 0
		default:
			v.Int = int64(x) // #nosec G115 -- protobuf int64 is the varint's two's complement
		}
	case protowire.Fixed64Type:
		var x uint64
		x, n = protowire.ConsumeFixed64(b)
		v.Float = math.Float64frombits(x)
	case protowire.Fixed32Type:
		var x uint32
		x, n = protowire.ConsumeFixed32(b)
		v.Float = float64(math.Float32frombits(x))
	}
	if n < 0 {
		return Value{}, 0, badValue("field %d (%s): %v", t, t, protowire.ParseError(n))
	}
	return v, n, nil
}

// scalarWireType is the protobuf wire type of a scalar value type.
func scalarWireType(t ValueType) protowire.Type {
	switch t {
	case TypeBytes, TypeString, TypeUUID, TypeTimeUUID:
		return protowire.BytesType
	case TypeDouble:
		return protowire.Fixed64Type
	case TypeFloat:
		return protowire.Fixed32Type
	}
	return protowire.VarintType
}

// decodeList decodes a {repeated val = 1} message of scalars of type elem, packed or not.
func decodeList(b []byte, elem ValueType) ([]Value, error) {
	var out []Value
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, badValue("list tag: %v", protowire.ParseError(n))
		}
		b = b[n:]
		if num != 1 {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, badValue("list field %d: %v", num, protowire.ParseError(n))
			}
			b = b[n:]
			continue
		}
		packable := elem != TypeBytes && elem != TypeString
		if packable && typ == protowire.BytesType {
			packed, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, badValue("packed list: %v", protowire.ParseError(n))
			}
			b = b[n:]
			et := scalarWireType(elem)
			for len(packed) > 0 {
				v, m, err := consumeScalar(packed, elem, et)
				if err != nil {
					return nil, err
				}
				out = append(out, v)
				packed = packed[m:]
			}
			continue
		}
		v, m, err := consumeScalar(b, elem, typ)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
		b = b[m:]
	}
	return out, nil
}

// AppendValue appends the serialized feast.types.Value of v to b (what Feast stores online). A
// value of TypeInvalid is the empty message; list types write packed numeric elements, as
// protobuf-python does for proto3.
func AppendValue(b []byte, v Value) ([]byte, error) {
	switch {
	case v.Type == TypeInvalid:
		return b, nil
	case v.Type == TypeNull:
		b = protowire.AppendTag(b, protowire.Number(TypeNull), protowire.VarintType)
		return protowire.AppendVarint(b, 0), nil
	case v.Type.IsList():
		var inner []byte
		elem := v.Type.elemType()
		if elem == TypeBytes || elem == TypeString {
			for _, e := range v.List {
				inner = protowire.AppendTag(inner, 1, protowire.BytesType)
				if elem == TypeBytes {
					inner = protowire.AppendBytes(inner, e.Bytes)
				} else {
					inner = protowire.AppendString(inner, e.Str)
				}
			}
		} else if len(v.List) > 0 {
			var packed []byte
			for _, e := range v.List {
				packed = appendScalarPayload(packed, elem, e)
			}
			inner = protowire.AppendTag(inner, 1, protowire.BytesType)
			inner = protowire.AppendBytes(inner, packed)
		}
		b = protowire.AppendTag(b, protowire.Number(v.Type), protowire.BytesType)
		return protowire.AppendBytes(b, inner), nil
	case v.Type == TypeMap || v.Type == TypeMapList:
		b = protowire.AppendTag(b, protowire.Number(v.Type), protowire.BytesType)
		return protowire.AppendBytes(b, v.Bytes), nil
	case v.Type >= TypeBytes && v.Type <= TypeUnixTimestamp || v.Type == TypeUUID || v.Type == TypeTimeUUID:
		var wt protowire.Type
		switch v.Type {
		case TypeBytes, TypeString, TypeUUID, TypeTimeUUID:
			wt = protowire.BytesType
		case TypeDouble:
			wt = protowire.Fixed64Type
		case TypeFloat:
			wt = protowire.Fixed32Type
		default:
			wt = protowire.VarintType
		}
		b = protowire.AppendTag(b, protowire.Number(v.Type), wt)
		return appendScalarPayload(b, v.Type, v), nil
	}
	return nil, fmt.Errorf("cannot encode a value of type %s", v.Type)
}

// appendScalarPayload appends the wire payload (no tag) of a scalar.
func appendScalarPayload(b []byte, t ValueType, v Value) []byte {
	switch t {
	case TypeBytes:
		return protowire.AppendBytes(b, v.Bytes)
	case TypeString, TypeUUID, TypeTimeUUID:
		return protowire.AppendString(b, v.Str)
	case TypeDouble:
		return protowire.AppendFixed64(b, math.Float64bits(v.Float))
	case TypeFloat:
		return protowire.AppendFixed32(b, math.Float32bits(float32(v.Float)))
	case TypeBool:
		return protowire.AppendVarint(b, protowire.EncodeBool(v.Bool))
	case TypeInt32:
		return protowire.AppendVarint(b, uint64(int64(int32(v.Int)))) // #nosec G115 -- protobuf int32 is sign-extended
	default:
		return protowire.AppendVarint(b, uint64(v.Int)) // #nosec G115 -- protobuf int64 two's complement
	}
}

// DecodeTimestamp decodes a serialized google.protobuf.Timestamp (seconds = 1, nanos = 2), the
// `_ts:{view}` field of Feast's Redis hash. Unknown fields are skipped.
func DecodeTimestamp(b []byte) (time.Time, error) {
	var sec int64
	var nanos int32
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return time.Time{}, fmt.Errorf("invalid timestamp: %v", protowire.ParseError(n))
		}
		b = b[n:]
		if (num == 1 || num == 2) && typ == protowire.VarintType {
			x, m := protowire.ConsumeVarint(b)
			if m < 0 {
				return time.Time{}, fmt.Errorf("invalid timestamp: %v", protowire.ParseError(m))
			}
			if num == 1 {
				sec = int64(x) // #nosec G115 -- int64 two's complement
			} else {
				nanos = int32(x) // #nosec G115 -- int32 low bits
			}
			b = b[m:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return time.Time{}, fmt.Errorf("invalid timestamp field %d: %v", num, protowire.ParseError(n))
		}
		b = b[n:]
	}
	// google.protobuf.Timestamp's valid range: 0001-01-01 to 9999-12-31, nanos in [0, 1e9).
	if sec < -62135596800 || sec > 253402300799 || nanos < 0 || nanos > 999_999_999 {
		return time.Time{}, fmt.Errorf("invalid timestamp: seconds %d, nanos %d out of range", sec, nanos)
	}
	return time.Unix(sec, int64(nanos)).UTC(), nil
}

// AppendTimestamp appends t as a serialized google.protobuf.Timestamp (zero fields omitted, as
// protobuf serializers do).
func AppendTimestamp(b []byte, t time.Time) []byte {
	sec, nanos := t.Unix(), t.Nanosecond()
	if sec != 0 {
		b = protowire.AppendTag(b, 1, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(sec)) // #nosec G115 -- int64 two's complement
	}
	if nanos != 0 {
		b = protowire.AppendTag(b, 2, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(nanos)) // #nosec G115 -- nanos is in [0, 1e9)
	}
	return b
}

// Equal reports whether two values have the same type and contents (NaN equals NaN here: the
// same stored bits).
func (v Value) Equal(w Value) bool {
	if v.Type != w.Type || v.Int != w.Int || v.Str != w.Str || v.Bool != w.Bool || string(v.Bytes) != string(w.Bytes) ||
		len(v.List) != len(w.List) {
		return false
	}
	if v.Float != w.Float && !(math.IsNaN(v.Float) && math.IsNaN(w.Float)) {
		return false
	}
	for i := range v.List {
		if !v.List[i].Equal(w.List[i]) {
			return false
		}
	}
	return true
}
