package online

import (
	"encoding/hex"
	"math"
	"strings"
	"testing"
	"time"
)

// unhex decodes hex with spaces and quoted ASCII runs: `01000000 "entity"`.
func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for _, part := range strings.Fields(s) {
		if strings.HasPrefix(part, `"`) {
			out = append(out, strings.Trim(part, `"`)...)
			continue
		}
		b, err := hex.DecodeString(part)
		if err != nil {
			t.Fatalf("bad hex %q: %v", part, err)
		}
		out = append(out, b...)
	}
	return out
}

// Byte vectors from Feast's own tests (shared/notes/feast-stores.md §4), not written here.
func TestFeastRedisKeyVector(t *testing.T) {
	// sdk/python/tests/unit/infra/online_store/test_redis.py: {entity: int32 1} in project "test".
	want := unhex(t, `01000000 02000000 06000000 "entity" 03000000 04000000 01000000 "test"`)
	sk, err := SerializeEntityKey(EntityKey{JoinKeys: []string{"entity"}, Values: []Value{Int32(1)}}, KeyV3)
	if err != nil {
		t.Fatal(err)
	}
	if got := RedisKey(sk, "test"); string(got) != string(want) {
		t.Fatalf("redis key\n got %x\nwant %x", got, want)
	}
	k, err := DeserializeEntityKey(want[:len(want)-len("test")])
	if err != nil {
		t.Fatal(err)
	}
	if len(k.JoinKeys) != 1 || k.JoinKeys[0] != "entity" || !k.Values[0].Equal(Int32(1)) {
		t.Fatalf("decoded %+v", k)
	}
}

func TestFeastGoKeyVector(t *testing.T) {
	// go/internal/feast/onlinestore/onlinestore_test.go: driver_id = int64 1001, version 3.
	want := unhex(t, `01000000 02000000 09000000 "driver_id" 04000000 08000000 e903000000000000`)
	got, err := SerializeEntityKey(EntityKey{JoinKeys: []string{"driver_id"}, Values: []Value{Int64(1001)}}, KeyV3)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Fatalf("got %x\nwant %x", got, want)
	}
	k, err := DeserializeEntityKey(want)
	if err != nil {
		t.Fatal(err)
	}
	if k.JoinKeys[0] != "driver_id" || !k.Values[0].Equal(Int64(1001)) {
		t.Fatalf("decoded %+v", k)
	}
	// Version 2 drops the count and the key length.
	want2 := unhex(t, `02000000 "driver_id" 04000000 08000000 e903000000000000`)
	got2, err := SerializeEntityKey(EntityKey{JoinKeys: []string{"driver_id"}, Values: []Value{Int64(1001)}}, KeyV2)
	if err != nil {
		t.Fatal(err)
	}
	if string(got2) != string(want2) {
		t.Fatalf("v2 got %x\nwant %x", got2, want2)
	}
	k2, err := DeserializeEntityKeyV2(want2, []string{"driver_id"})
	if err != nil || !k2.Values[0].Equal(Int64(1001)) {
		t.Fatalf("v2 decoded %+v, %v", k2, err)
	}
	if _, err := DeserializeEntityKey(want2); err == nil {
		t.Fatal("a version-2 key decoded as version 3")
	}
}

func TestFeastMurmur3Vectors(t *testing.T) {
	// sdk/python/tests/unit/infra/online_store/test_redis.py.
	for _, c := range []struct{ feature, want string }{
		{"feature_10", "266d5f39"}, // "&m_9"
		{"feature_11", "c3379abf"},
		{"feature_12", "7772b564"},
	} {
		if got := hex.EncodeToString(FieldHash("feature_view_1", c.feature)); got != c.want {
			t.Errorf("%s: got %s want %s", c.feature, got, c.want)
		}
	}
	if got := string(FieldHash("feature_view_1", "feature_10")); got != "&m_9" {
		t.Errorf("got %q", got)
	}
}

func TestFeastValueVector(t *testing.T) {
	// docs/specs/online_store_format.md: 35f5696d3f is float_val 0.9273980259895325.
	b := unhex(t, "35f5696d3f")
	v, err := DecodeValue(b)
	if err != nil {
		t.Fatal(err)
	}
	if v.Type != TypeFloat || v.Float != 0.9273980259895325 {
		t.Fatalf("got %v (%v)", v, v.Float)
	}
	enc, err := AppendValue(nil, v)
	if err != nil || string(enc) != string(b) {
		t.Fatalf("re-encoded %x, %v", enc, err)
	}
}

func TestKeyOrderAndTypes(t *testing.T) {
	// Join keys are sorted with their values; every entity-key type round-trips.
	k := EntityKey{JoinKeys: []string{"zip", "customer", "day", "blob", "small"},
		Values: []Value{String("10001"), Int64(-7), Timestamp(1700000000), Bytes([]byte{0, 1}), Int32(-3)}}
	for _, ver := range []int{KeyV2, KeyV3} {
		b, err := SerializeEntityKey(k, ver)
		if err != nil {
			t.Fatal(err)
		}
		var got EntityKey
		if ver == KeyV3 {
			got, err = DeserializeEntityKey(b)
		} else {
			got, err = DeserializeEntityKeyV2(b, k.JoinKeys)
		}
		if err != nil {
			t.Fatalf("v%d: %v", ver, err)
		}
		wantKeys := []string{"blob", "customer", "day", "small", "zip"}
		for i, jk := range wantKeys {
			if got.JoinKeys[i] != jk {
				t.Fatalf("v%d key %d = %q", ver, i, got.JoinKeys[i])
			}
		}
		if !got.Values[1].Equal(Int64(-7)) || !got.Values[4].Equal(String("10001")) || !got.Values[3].Equal(Int32(-3)) ||
			!got.Values[2].Equal(Timestamp(1700000000)) || string(got.Values[0].Bytes) != "\x00\x01" {
			t.Fatalf("v%d values %v", ver, got.Values)
		}
		if DetectKeyVersion([][]byte{b}, k.JoinKeys) != ver {
			t.Fatalf("v%d not detected", ver)
		}
	}
	if _, err := SerializeEntityKey(EntityKey{JoinKeys: []string{"a"}, Values: []Value{Double(1)}}, KeyV3); err == nil {
		t.Fatal("double entity value accepted")
	}
	if _, err := SerializeEntityKey(EntityKey{JoinKeys: []string{"a", "a"}, Values: []Value{Int64(1), Int64(2)}}, KeyV3); err == nil {
		t.Fatal("duplicate join key accepted")
	}
	if err := CheckKeyVersion(1); err == nil {
		t.Fatal("version 1 accepted")
	}
}

func TestValueRoundTrip(t *testing.T) {
	vals := []Value{Int64(math.MinInt64), Int64(math.MaxInt64), Int32(-5), String("héllo"), Double(-2.5), Float(0.25),
		Bool(true), Bool(false), Timestamp(-1), Bytes([]byte("raw")), Null(), {},
		{Type: TypeDoubleList, List: []Value{Double(1), Double(math.Inf(-1))}},
		{Type: TypeInt32List, List: []Value{Int32(-1), Int32(7)}},
		{Type: TypeInt64Set, List: []Value{Int64(-1)}},
		{Type: TypeStringList, List: []Value{String("a"), String("")}},
		{Type: TypeBoolList, List: []Value{Bool(true), Bool(false)}},
		{Type: TypeFloatList},
		{Type: TypeUUID, Str: "0f8fad5b-d9cb-469f-a165-70867728950e"},
	}
	for _, v := range vals {
		b, err := AppendValue(nil, v)
		if err != nil {
			t.Fatal(err)
		}
		got, err := DecodeValue(b)
		if err != nil {
			t.Fatalf("%v: %v", v, err)
		}
		if got.String() != v.String() || got.Type != v.Type || len(got.List) != len(v.List) {
			t.Fatalf("round trip %v -> %x -> %v", v, b, got)
		}
		for i := range v.List {
			if got.List[i].String() != v.List[i].String() {
				t.Fatalf("element %d: %v vs %v", i, got.List[i], v.List[i])
			}
		}
	}
	// Int32 -5 is a sign-extended 10-byte varint, as protobuf writes it.
	b, _ := AppendValue(nil, Int32(-5))
	if len(b) != 11 {
		t.Fatalf("int32 -5 encoded in %d bytes: %x", len(b), b)
	}
	// An unpacked list decodes too, and unknown fields are skipped.
	unpacked := unhex(t, "72 06 08 01 08 02 08 03 a0 06 01") // int64_list_val {1,2,3}, field 100 varint 1
	v, err := DecodeValue(unpacked)
	if err != nil || v.Type != TypeInt64List || len(v.List) != 3 || !v.List[2].Equal(Int64(3)) {
		t.Fatalf("unpacked list: %v %v", v, err)
	}
	if !(Value{}).IsNull() || !Null().IsNull() || Int64(0).IsNull() {
		t.Fatal("IsNull")
	}
}

func TestTimestamp(t *testing.T) {
	ts := time.Date(2026, 12, 4, 15, 4, 5, 123456789, time.UTC)
	b := AppendTimestamp(nil, ts)
	got, err := DecodeTimestamp(b)
	if err != nil || !got.Equal(ts) {
		t.Fatalf("%v %v", got, err)
	}
	// seconds=1700000000 written by protobuf: 08 80 e2 cf aa 06.
	got, err = DecodeTimestamp(unhex(t, "0880e2cfaa06"))
	if err != nil || got.Unix() != 1700000000 {
		t.Fatalf("%v %v", got, err)
	}
	if _, err := DecodeTimestamp(unhex(t, "10ff93ebdc03")); err != nil { // nanos 999999999
		t.Fatal(err)
	}
	if _, err := DecodeTimestamp(unhex(t, "1080")); err == nil {
		t.Fatal("truncated timestamp accepted")
	}
	if _, err := DecodeTimestamp(unhex(t, "08ffffffffffffffff7f")); err == nil {
		t.Fatal("out-of-range seconds accepted")
	}
}

func TestDecodeErrors(t *testing.T) {
	for _, s := range []string{"08", "35f569", "2a05616263", "9801", "7a0508", "12", "3d00000000"} {
		if _, err := DecodeValue(unhex(t, s)); err == nil {
			t.Errorf("%s decoded", s)
		}
	}
	for _, s := range []string{"", "01000000", "00000000", "ffffffff", "01000000 03000000", "01000000 02000000 ff000000",
		`01000000 02000000 01000000 "a" 04000000 04000000 00000000`, `01000000 02000000 01000000 "a"`,
		`01000000 02000000 01000000 "a" 05000000 08000000 0000000000000000`} {
		if _, err := DeserializeEntityKey(unhex(t, s)); err == nil {
			t.Errorf("key %q decoded", s)
		}
	}
}
