package online

import "testing"

// BenchmarkSerializeEntityKey: one single-key entity, as lookups serializes each probe.
func BenchmarkSerializeEntityKey(b *testing.B) {
	k := EntityKey{JoinKeys: []string{"driver_id"}, Values: []Value{Int64(1001)}}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := SerializeEntityKey(k, KeyV3); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeValue: a double value and a 16-element float list, as read from the store.
func BenchmarkDecodeValue(b *testing.B) {
	d, _ := AppendValue(nil, Double(0.25))
	list := Value{Type: TypeFloatList}
	for i := 0; i < 16; i++ {
		list.List = append(list.List, Float(float32(i)))
	}
	l, _ := AppendValue(nil, list)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := DecodeValue(d); err != nil {
			b.Fatal(err)
		}
		if _, err := DecodeValue(l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRedisRow: decoding one entity's HMGET answer of 10 features and the timestamp.
func BenchmarkRedisRow(b *testing.B) {
	features := make([]string, 10)
	vals := make([]any, 11)
	for i := range features {
		features[i] = "f" + string(rune('a'+i))
		v, _ := AppendValue(nil, Double(float64(i)))
		vals[i] = string(v)
	}
	vals[10] = string(AppendTimestamp(nil, t0))
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := redisRow("v", features, vals); err != nil {
			b.Fatal(err)
		}
	}
}
