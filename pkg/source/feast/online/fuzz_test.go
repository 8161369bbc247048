package online

import (
	"testing"
)

// The seed corpora are in testdata/fuzz/<name>: Feast's byte vectors (notes §4) and truncations.

func FuzzDecodeValue(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeValue(b)
		if err != nil {
			return
		}
		enc, err := AppendValue(nil, v)
		if err != nil {
			t.Fatalf("decoded %v does not encode: %v", v, err)
		}
		w, err := DecodeValue(enc)
		if err != nil {
			t.Fatalf("re-encoded %x does not decode: %v", enc, err)
		}
		if !w.Equal(v) {
			t.Fatalf("round trip %v != %v", w, v)
		}
		_, _ = v.Number()
		_, _ = v.Text()
		_ = v.String()
	})
}

func FuzzDeserializeEntityKey(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := DeserializeEntityKey(b)
		if err != nil {
			return
		}
		if len(k.JoinKeys) != len(k.Values) || len(k.JoinKeys) == 0 {
			t.Fatalf("decoded %d keys, %d values", len(k.JoinKeys), len(k.Values))
		}
		enc, err := SerializeEntityKey(k, KeyV3)
		if err != nil {
			return // duplicate join keys: decodable, never written by Feast
		}
		k2, err := DeserializeEntityKey(enc)
		if err != nil {
			t.Fatalf("re-serialized %x does not decode: %v", enc, err)
		}
		enc2, err := SerializeEntityKey(k2, KeyV3)
		if err != nil || string(enc2) != string(enc) {
			t.Fatalf("serialization not stable: %x vs %x (%v)", enc2, enc, err)
		}
		if DetectKeyVersion([][]byte{enc}, k.JoinKeys) != KeyV3 {
			t.Fatalf("version of %x not detected", enc)
		}
	})
}

func FuzzDeserializeEntityKeyV2(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		joinKeys := []string{"customer_id", "zip"}
		k, err := DeserializeEntityKeyV2(b, joinKeys)
		if err != nil {
			return
		}
		enc, err := SerializeEntityKey(k, KeyV2)
		if err != nil {
			t.Fatalf("decoded %v does not serialize: %v", k, err)
		}
		if string(enc) != string(b) {
			t.Fatalf("round trip %x != %x", enc, b)
		}
	})
}

func FuzzDecodeTimestamp(f *testing.F) {
	f.Fuzz(func(t *testing.T, b []byte) {
		ts, err := DecodeTimestamp(b)
		if err != nil {
			return
		}
		got, err := DecodeTimestamp(AppendTimestamp(nil, ts))
		if err != nil || !got.Equal(ts) {
			t.Fatalf("round trip %v -> %v (%v)", ts, got, err)
		}
	})
}
