package plugin

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/modellens/mlmonitoring-datasource/pkg/internal/testdb"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
)

func TestFeastStores(t *testing.T) {
	s := &settings.Settings{Timeout: 5 * time.Second}
	on, off, err := feastStores(s)
	require.NoError(t, err)
	require.Nil(t, on)
	require.Nil(t, off)

	rd := testdb.StartRedis(t, "--requirepass", "online-secret")
	pg := testdb.StartPostgres(t)
	s.Feast = settings.FeastSettings{Project: "demo", RegistryPath: "/x/registry.db", OnlineType: settings.FeastOnlineRedis,
		OnlineAddress: rd.Addr, KeySerializationVersion: 2, OfflineURL: pg.URLWithoutPassword()}
	s.FeastOnlinePassword, s.FeastOfflinePassword = "online-secret", pg.Password
	on, off, err = feastStores(s)
	require.NoError(t, err)
	defer on.Close()
	defer off.Close()
	ctx := context.Background()
	require.NoError(t, on.Ping(ctx))
	require.Equal(t, 2, on.KeyVersion())
	require.NoError(t, off.Ping(ctx))

	s.Feast.OnlineType, s.Feast.OnlineAddress = settings.FeastOnlinePostgres, pg.URLWithoutPassword()
	s.FeastOnlinePassword = pg.Password
	on2, off2, err := feastStores(s)
	require.NoError(t, err)
	defer on2.Close()
	defer off2.Close()
	require.NoError(t, on2.Ping(ctx))
	require.Equal(t, 2, on2.KeyVersion())

	// A wrong password: the error never holds it.
	s.FeastOfflinePassword = "wrong-offline-password"
	_, off3, err := feastStores(s)
	require.NoError(t, err)
	defer off3.Close()
	err = off3.Ping(ctx)
	require.Error(t, err)
	require.NotContains(t, err.Error(), "wrong-offline-password")
}
