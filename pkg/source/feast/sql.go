package feast

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// sqlRegistry reads Feast's SQL registry (sdk/python/feast/infra/registry/sql.py) in PostgreSQL:
// one table per object kind, keyed by (name, project_id), whose <kind>_proto BYTEA column holds
// the object's whole serialized proto (spec and meta; a feature view's materialization
// intervals are in its proto, the materialized_intervals column is unused).
type sqlRegistry struct {
	pool    *pgxpool.Pool
	project string
}

// sqlTables are the tables read, with their proto column, in Registry order.
var sqlTables = []struct {
	table, column string
	optional      bool // absent from registries written before Feast had projects
}{
	{"projects", "project_proto", true},
	{"entities", "entity_proto", false},
	{"data_sources", "data_source_proto", false},
	{"feature_views", "feature_view_proto", false},
	{"feature_services", "feature_service_proto", false},
}

func newSQLRegistry(url, password, project string) (*sqlRegistry, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, errors.New("feast.registry.sql is not a valid PostgreSQL URL")
	}
	if password != "" {
		cfg.ConnConfig.Password = password
	}
	cfg.MaxConns = 2
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = time.Minute
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 10 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("feast.registry.sql: %w", sqlError(err))
	}
	return &sqlRegistry{pool: pool, project: project}, nil
}

// Close closes the pool.
func (s *sqlRegistry) Close() error {
	s.pool.Close()
	return nil
}

func (s *sqlRegistry) read(ctx context.Context) (*Registry, error) {
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, sqlError(err)
	}
	defer conn.Release()
	reg := &Registry{}
	var total int64
	for _, t := range sqlTables {
		// #nosec G202 -- table and column names are constants above
		q := fmt.Sprintf("SELECT %s FROM %s WHERE project_id = $1 LIMIT %d", t.column, t.table, limits.MaxFeastObjects+1)
		rows, err := conn.Query(ctx, q, s.project)
		if err != nil {
			if t.optional && isUndefinedTable(err) {
				continue
			}
			return nil, tableError(t.table, err)
		}
		n := 0
		for rows.Next() {
			var b []byte
			if err := rows.Scan(&b); err != nil {
				rows.Close()
				return nil, sqlError(err)
			}
			n++
			total += int64(len(b))
			if n > limits.MaxFeastObjects {
				rows.Close()
				return nil, fmt.Errorf("table %s has more than %d rows for project %q", t.table, limits.MaxFeastObjects, s.project)
			}
			if total > limits.FeastRegistryBytes {
				rows.Close()
				return nil, fmt.Errorf("the registry of project %q is larger than %d MiB", s.project, limits.FeastRegistryBytes>>20)
			}
			if err := s.add(reg, t.table, n-1, b); err != nil {
				rows.Close()
				return nil, err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			if t.optional && isUndefinedTable(err) {
				continue
			}
			return nil, tableError(t.table, err)
		}
	}
	if len(reg.Projects) == 0 && (len(reg.FeatureViews) > 0 || len(reg.Entities) > 0) {
		reg.Projects = []Project{{Name: s.project}}
	}
	return reg, nil
}

// add decodes one row's proto into reg.
func (s *sqlRegistry) add(reg *Registry, table string, i int, b []byte) error {
	where := fmt.Sprintf("%s[%d]", table, i)
	switch table {
	case "projects":
		p, err := decodeProject(b, where)
		reg.Projects = append(reg.Projects, p)
		return err
	case "entities":
		e, err := decodeEntity(b, where)
		if e.Project == "" {
			e.Project = s.project
		}
		reg.Entities = append(reg.Entities, e)
		return err
	case "data_sources":
		d, err := decodeDataSource(b, where)
		reg.DataSources = append(reg.DataSources, d)
		return err
	case "feature_views":
		v, err := decodeFeatureView(b, where)
		if v.Project == "" {
			v.Project = s.project
		}
		reg.FeatureViews = append(reg.FeatureViews, v)
		return err
	case "feature_services":
		fs, err := decodeFeatureService(b, where)
		if fs.Project == "" {
			fs.Project = s.project
		}
		reg.FeatureServices = append(reg.FeatureServices, fs)
		return err
	}
	return nil
}

func isUndefinedTable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "42P01"
}

func tableError(table string, err error) error {
	if isUndefinedTable(err) {
		return fmt.Errorf("table %s does not exist: is feast.registry.sql the database of a Feast SQL registry?", table)
	}
	return sqlError(err)
}

// sqlError says what went wrong talking to PostgreSQL, in a user's words.
func sqlError(err error) error {
	var pe *pgconn.PgError
	var ne net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return errors.New("the SQL registry timed out (raise timeoutSeconds)")
	case errors.Is(err, context.Canceled):
		return errors.New("the request was cancelled")
	case errors.As(err, &pe):
		switch pe.Code {
		case "28P01", "28000":
			return errors.New("PostgreSQL refused the login (check the user in feast.registry.sql and the password in feastRegistryToken)")
		case "3D000":
			return errors.New("the database in feast.registry.sql does not exist")
		case "42501":
			return errors.New("permission denied reading the registry tables")
		}
		return fmt.Errorf("PostgreSQL error %s: %s", pe.Code, pe.Message)
	case errors.Is(err, pgx.ErrNoRows):
		return errors.New("no rows")
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return errors.New("cannot connect to the SQL registry's PostgreSQL server (is it running, and the URL right?)")
	}
	return fmt.Errorf("PostgreSQL: %v", err)
}
