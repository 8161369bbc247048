package settings

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// parseFeast validates the feast.* settings (DESIGN §3). Nothing set is no Feast source; a store
// or project without a registry is an error (the registry says what the stores hold).
func parseFeast(r Feast) (FeastSettings, error) {
	f := FeastSettings{
		Project:                 strings.TrimSpace(r.Project),
		RegistryPath:            strings.TrimSpace(r.Registry.Path),
		RegistrySQL:             strings.TrimSpace(r.Registry.SQL),
		RegistryURL:             strings.TrimRight(strings.TrimSpace(r.Registry.URL), "/"),
		OnlineType:              strings.TrimSpace(r.OnlineStore.Type),
		OnlineAddress:           strings.TrimSpace(r.OnlineStore.Address),
		KeySerializationVersion: DefaultKeySerializationVersion,
		OfflineURL:              strings.TrimSpace(r.OfflineStore.URL),
	}
	set := 0
	for _, v := range []string{f.RegistryPath, f.RegistrySQL, f.RegistryURL} {
		if v != "" {
			set++
		}
	}
	if set == 0 {
		if f.Project != "" || f.OnlineType != "" || f.OnlineAddress != "" || f.OfflineURL != "" || r.OnlineStore.KeySerializationVersion != nil {
			return f, fmt.Errorf("feast.registry is not set: set feast.registry.path, feast.registry.sql or feast.registry.url (the registry says what the stores hold)")
		}
		return f, nil
	}
	if set > 1 {
		return f, fmt.Errorf("feast.registry: set only one of path, sql and url")
	}
	if f.Project == "" {
		return f, fmt.Errorf("feast.project is required with feast.registry")
	}
	if len(f.Project) > limits.MaxNameLength {
		return f, fmt.Errorf("feast.project is longer than %d bytes", limits.MaxNameLength)
	}
	switch {
	case f.RegistryPath != "":
		if strings.Contains(f.RegistryPath, "://") {
			return f, fmt.Errorf("feast.registry.path must be a local file path (object-store registries such as s3:// or gs:// are not read)")
		}
		if !filepath.IsAbs(f.RegistryPath) {
			return f, fmt.Errorf("feast.registry.path must be an absolute path")
		}
	case f.RegistrySQL != "":
		if err := checkPostgresURL(f.RegistrySQL, SecretFeastRegistryToken); err != nil {
			return f, fmt.Errorf("feast.registry.sql: %w", err)
		}
	case f.RegistryURL != "":
		if err := checkURL(f.RegistryURL); err != nil {
			return f, fmt.Errorf("feast.registry.url: %w", err)
		}
	}
	if f.OnlineType != "" || f.OnlineAddress != "" {
		if !slices.Contains(FeastOnlineTypes, f.OnlineType) {
			return f, fmt.Errorf("feast.onlineStore.type %q is not one of %s", f.OnlineType, strings.Join(FeastOnlineTypes, ", "))
		}
		if f.OnlineAddress == "" {
			return f, fmt.Errorf("feast.onlineStore.address is required with feast.onlineStore.type")
		}
		switch f.OnlineType {
		case FeastOnlineRedis:
			host, port, err := net.SplitHostPort(f.OnlineAddress)
			if err != nil || host == "" || port == "" || strings.ContainsAny(f.OnlineAddress, "/@,") {
				return f, fmt.Errorf("feast.onlineStore.address must be host:port for Redis (the password goes in %s)", SecretFeastOnlinePass)
			}
		case FeastOnlinePostgres:
			if err := checkPostgresURL(f.OnlineAddress, SecretFeastOnlinePass); err != nil {
				return f, fmt.Errorf("feast.onlineStore.address: %w", err)
			}
		}
	}
	if v := r.OnlineStore.KeySerializationVersion; v != nil {
		if *v < MinKeySerializationVersion || *v > MaxKeySerializationVersion {
			return f, fmt.Errorf("feast.onlineStore.keySerializationVersion must be %d or %d, got %d",
				MinKeySerializationVersion, MaxKeySerializationVersion, *v)
		}
		f.KeySerializationVersion = *v
	}
	if f.OfflineURL != "" {
		if err := checkPostgresURL(f.OfflineURL, SecretFeastOfflinePass); err != nil {
			return f, fmt.Errorf("feast.offlineStore.url: %w", err)
		}
	}
	return f, nil
}

// checkPostgresURL accepts postgres://user@host:port/db?params: a URL (not a keyword/value
// string) with a host and no password (that belongs in the secret named).
func checkPostgresURL(raw, secret string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("is not a valid URL")
	}
	if u.Scheme != "postgres" && u.Scheme != "postgresql" {
		return fmt.Errorf("must start with postgres:// or postgresql://")
	}
	if u.Host == "" {
		return fmt.Errorf("has no host")
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			return fmt.Errorf("must not contain a password; put it in %s", secret)
		}
	}
	if q := u.Query(); q.Has("password") {
		return fmt.Errorf("must not contain a password; put it in %s", secret)
	}
	return nil
}
