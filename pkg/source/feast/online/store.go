package online

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Cell is what the online store holds for one (entity, feature) of a view.
type Cell struct {
	// Stored is false when the store has no value for the feature (no row, no hash field).
	Stored bool
	// Value is the decoded value; IsNull() when Feast stored a null.
	Value Value
	// EventTime is the event timestamp stored with the value (zero when the store has none).
	EventTime time.Time
}

// Row is what the online store holds for one entity of a view.
type Row struct {
	// Found is true when the store has anything of the view for the entity.
	Found bool
	// Cells holds one cell per requested feature, in request order.
	Cells []Cell
}

// Newest is a view's newest event timestamp in the online store.
type Newest struct {
	// Time is the newest event time seen; zero when the view has no rows.
	Time time.Time
	// Scanned is the number of entities (Redis keys, PostgreSQL rows) looked at.
	Scanned int64
	// Partial is true when the scan stopped at limits.FeastScanKeys before the end.
	Partial bool
	// ScanLimit is the number of keys the scan was capped at when Partial.
	ScanLimit int
}

// Store reads one Feast project's online store. Views are named as stored (the versioned name
// "{view}_v{N}" when Feast's online versioning is on).
type Store interface {
	// Read returns, for each entity key (in order), the stored cells of the given features of
	// the view. Keys whose join keys do not match the view's entity set are simply not found.
	Read(ctx context.Context, view string, features []string, keys []EntityKey) ([]Row, error)
	// NewestEventTime returns the newest event timestamp of the view; joinKeys are the view's join
	// keys (Redis keys are scanned by their prefix).
	NewestEventTime(ctx context.Context, view string, joinKeys []string) (Newest, error)
	// StoredKeyVersion samples keys stored for the view's entity set and says which serialization
	// version wrote them (0 when it cannot tell: no keys, or another layout).
	StoredKeyVersion(ctx context.Context, view string, joinKeys []string) (int, error)
	// KeyVersion is the serialization version the store is read with.
	KeyVersion() int
	// Ping checks that the store answers.
	Ping(ctx context.Context) error
	Close() error
}

// ErrNoTable is returned (wrapped) by the PostgreSQL store for a view without a table: the view
// was never materialized into this online store (or the project name is wrong).
var ErrNoTable = errors.New("online store table does not exist")

// KeyVersionError says that the keys stored for a view were written with another serialization
// version than the configured one.
type KeyVersionError struct {
	View       string
	Configured int
	Stored     int
}

func (e *KeyVersionError) Error() string {
	return fmt.Sprintf("the online store's keys of feature view %q are serialized with version %d but feast.onlineStore.keySerializationVersion is %d: set it to %d",
		e.View, e.Stored, e.Configured, e.Stored)
}

// CheckStoredVersion is what a reader calls when no probed entity was found: it samples the keys
// stored for the view and returns a *KeyVersionError when they were written with another version.
func CheckStoredVersion(ctx context.Context, s Store, view string, joinKeys []string) error {
	v, err := s.StoredKeyVersion(ctx, view, joinKeys)
	if err != nil {
		return err
	}
	if v != 0 && v != s.KeyVersion() {
		return &KeyVersionError{View: view, Configured: s.KeyVersion(), Stored: v}
	}
	return nil
}

// serializeAll serializes keys with version; a key that cannot be serialized (a value type Feast
// does not accept in keys) is nil and never found.
func serializeAll(keys []EntityKey, version int) [][]byte {
	out := make([][]byte, len(keys))
	for i, k := range keys {
		b, err := SerializeEntityKey(k, version)
		if err == nil {
			out[i] = b
		}
	}
	return out
}
