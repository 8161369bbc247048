package settings

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseFeast(t *testing.T) {
	s, err := Parse([]byte(`{"feast": {"project": " credit ", "registry": {"path": "/var/lib/feast/registry.db"},
		"onlineStore": {"type": "redis", "address": "redis:6379"},
		"offlineStore": {"url": "postgres://feast@db:5432/offline?sslmode=disable"}}}`),
		map[string]string{"feastRegistryToken": "r", "feastOnlinePassword": "o", "feastOfflinePassword": "f"})
	require.NoError(t, err)
	require.False(t, s.Demo)
	require.True(t, s.HasSource(), "a Feast registry is a source")
	require.Equal(t, FeastSettings{Project: "credit", RegistryPath: "/var/lib/feast/registry.db",
		OnlineType: "redis", OnlineAddress: "redis:6379", KeySerializationVersion: 3,
		OfflineURL: "postgres://feast@db:5432/offline?sslmode=disable"}, s.Feast)
	require.Equal(t, []string{"r", "o", "f"}, []string{s.FeastRegistryToken, s.FeastOnlinePassword, s.FeastOfflinePassword})

	s, err = Parse([]byte(`{"feast": {"project": "p", "registry": {"url": "http://registry:6572/"},
		"onlineStore": {"type": "postgres", "address": "postgresql://feast@db/online", "keySerializationVersion": 2}}}`), nil)
	require.NoError(t, err)
	require.Equal(t, "http://registry:6572", s.Feast.RegistryURL)
	require.Equal(t, 2, s.Feast.KeySerializationVersion)

	s, err = Parse([]byte(`{"feast": {"project": "p", "registry": {"sql": "postgres://feast@db:5432/registry"}}}`), nil)
	require.NoError(t, err)
	require.Equal(t, "postgres://feast@db:5432/registry", s.Feast.RegistrySQL)
	require.True(t, s.Feast.Configured())

	s, err = Parse([]byte(`{"feast": {"registry": {}, "onlineStore": {}}, "demo": true}`), nil)
	require.NoError(t, err)
	require.False(t, s.Feast.Configured(), "empty feast objects configure nothing")
}

func TestParseFeastErrors(t *testing.T) {
	for raw, want := range map[string]string{
		`{"feast": {"project": "p"}}`:                                                                                                               "feast.registry is not set",
		`{"feast": {"onlineStore": {"type": "redis", "address": "r:6379"}}}`:                                                                        "feast.registry is not set",
		`{"feast": {"registry": {"path": "/r.db"}}}`:                                                                                                "feast.project is required",
		`{"feast": {"project": "p", "registry": {"path": "/r.db", "url": "http://r"}}}`:                                                             "set only one of path, sql and url",
		`{"feast": {"project": "p", "registry": {"path": "s3://bucket/registry.pb"}}}`:                                                              "must be a local file path",
		`{"feast": {"project": "p", "registry": {"path": "data/registry.db"}}}`:                                                                     "must be an absolute path",
		`{"feast": {"project": "p", "registry": {"sql": "mysql://db/registry"}}}`:                                                                   "must start with postgres://",
		`{"feast": {"project": "p", "registry": {"sql": "postgres://u:hunter2@db/r"}}}`:                                                             "put it in feastRegistryToken",
		`{"feast": {"project": "p", "registry": {"sql": "postgres://db/r?password=x1"}}}`:                                                           "put it in feastRegistryToken",
		`{"feast": {"project": "p", "registry": {"url": "ftp://r"}}}`:                                                                               "feast.registry.url: must start with http",
		`{"feast": {"project": "p", "registry": {"url": "http://u:pw@r"}}}`:                                                                         "must not contain credentials",
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStore": {"type": "dynamodb", "address": "x"}}}`:                              `"dynamodb" is not one of redis, postgres`,
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStore": {"type": "redis"}}}`:                                                 "address is required",
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStore": {"address": "r:6379"}}}`:                                             `"" is not one of`,
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStore": {"type": "redis", "address": "redis://:pw@r:6379"}}}`:                "must be host:port",
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStore": {"type": "redis", "address": "r:6379,password=pw"}}}`:                "must be host:port",
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStore": {"type": "postgres", "address": "host=db"}}}`:                        "must start with postgres://",
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStore": {"type": "redis", "address": "r:1", "keySerializationVersion": 1}}}`: "must be 2 or 3, got 1",
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "offlineStore": {"url": "postgres://u:secretpw@db/o"}}}`:                            "put it in feastOfflinePassword",
		`{"feast": {"project": "p", "registry": {"path": "/r"}, "onlineStre": {}}}`:                                                                 `"feast.onlineStre" (did you mean "feast.onlineStore"?)`,
		`{"feast": {"project": "p", "registry": {"paht": "/r"}}}`:                                                                                   `"feast.registry.paht" (did you mean "feast.registry.path"?)`,
	} {
		_, err := Parse([]byte(raw), nil)
		require.ErrorContains(t, err, want, raw)
		for _, secret := range []string{"hunter2", "secretpw", ":pw@"} {
			require.NotContains(t, err.Error(), secret, "errors never quote a password")
		}
	}
}
