package testdb

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestStartPostgresAndRedis(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pg := StartPostgres(t)
	var version string
	require.NoError(t, pg.Conn(t).QueryRow(ctx, "SHOW server_version").Scan(&version))
	require.Regexp(t, `^15\.`, version)

	r := StartRedis(t)
	c := r.Client(t)
	require.NoError(t, c.Set(ctx, "k", "v", 0).Err())
	info, err := c.Info(ctx, "server").Result()
	require.NoError(t, err)
	require.Contains(t, info, "redis_version:7.")
}
