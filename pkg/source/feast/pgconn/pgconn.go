// Package pgconn opens the PostgreSQL connection pools of the Feast source (the PostgreSQL online
// store and the offline store) and words their errors for queries without their secrets.
package pgconn

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
)

// Options configure a pool.
type Options struct {
	// URL is postgres://user@host:port/db?sslmode=...; it must not hold the password.
	URL string
	// Password comes from secureJsonData.
	Password string
	// Timeout bounds connecting; queries are bounded by their context.
	Timeout  time.Duration
	MaxConns int32
	// What names the database in errors ("feast.offlineStore").
	What string
}

// Open returns a pool (connections are made when first used).
func Open(o Options) (*pgxpool.Pool, error) {
	if o.What == "" {
		o.What = "PostgreSQL"
	}
	u, err := url.Parse(o.URL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") || u.Host == "" {
		return nil, fmt.Errorf("%s.url is not a postgres://user@host:5432/db URL", o.What)
	}
	if _, has := u.User.Password(); has {
		return nil, fmt.Errorf("%s.url must not hold the password: put it in the secure settings", o.What)
	}
	cfg, err := pgxpool.ParseConfig(o.URL)
	if err != nil {
		return nil, fmt.Errorf("%s.url: %s", o.What, Redact(err.Error(), o.Password))
	}
	if o.Password != "" {
		cfg.ConnConfig.Password = o.Password
	}
	if o.Timeout <= 0 {
		o.Timeout = limits.DefaultTimeout
	}
	cfg.ConnConfig.ConnectTimeout = o.Timeout
	if o.MaxConns <= 0 {
		o.MaxConns = 4
	}
	cfg.MaxConns = o.MaxConns
	cfg.MinConns = 0
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.ConnConfig.RuntimeParams["application_name"] = "modellens"
	// Timestamps without a time zone are read as UTC, as Feast writes them.
	cfg.ConnConfig.RuntimeParams["timezone"] = "UTC"
	return pgxpool.NewWithConfig(context.Background(), cfg)
}

// Redact removes every occurrence of secret from s.
func Redact(s, secret string) string {
	if secret == "" {
		return s
	}
	for {
		i := strings.Index(s, secret)
		if i < 0 {
			return s
		}
		s = s[:i] + "[redacted]" + s[i+len(secret):]
	}
}

// UndefinedTable reports whether err is PostgreSQL's "relation does not exist" (42P01).
func UndefinedTable(err error) bool { return Code(err) == "42P01" }

// UndefinedColumn reports whether err is PostgreSQL's "column does not exist" (42703).
func UndefinedColumn(err error) bool { return Code(err) == "42703" }

// Code is the SQLSTATE of a PostgreSQL error ("" for others).
func Code(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// Wrap words a pgx error for a query: "{what}: message", the password redacted.
func Wrap(err error, what, password string) error {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return &wrapped{msg: what + ": " + Redact(err.Error(), password), err: err}
}

type wrapped struct {
	msg string
	err error
}

func (w *wrapped) Error() string { return w.msg }
func (w *wrapped) Unwrap() error { return w.err }
