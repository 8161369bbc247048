package plugin

import (
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/offline"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/feast/online"
)

// feastStores opens the Feast online store and offline store of the settings (nil when not
// configured); both connect lazily, on their first query.
func feastStores(s *settings.Settings) (online.Store, *offline.Store, error) {
	f := s.Feast
	var on online.Store
	switch f.OnlineType {
	case settings.FeastOnlineRedis:
		r, err := online.NewRedis(online.RedisOptions{Address: f.OnlineAddress, Password: s.FeastOnlinePassword,
			Project: f.Project, KeyVersion: f.KeySerializationVersion, Timeout: s.Timeout})
		if err != nil {
			return nil, nil, err
		}
		on = r
	case settings.FeastOnlinePostgres:
		p, err := online.NewPostgres(online.PostgresOptions{URL: f.OnlineAddress, Password: s.FeastOnlinePassword,
			Project: f.Project, KeyVersion: f.KeySerializationVersion, Timeout: s.Timeout})
		if err != nil {
			return nil, nil, err
		}
		on = p
	}
	var off *offline.Store
	if f.OfflineURL != "" {
		o, err := offline.New(offline.Options{URL: f.OfflineURL, Password: s.FeastOfflinePassword, Timeout: s.Timeout})
		if err != nil {
			if on != nil {
				_ = on.Close()
			}
			return nil, nil, err
		}
		off = o
	}
	return on, off, nil
}
