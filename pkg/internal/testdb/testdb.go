// Package testdb starts real database servers for tests: PostgreSQL 15 and Redis 7 from Debian
// (installed by scripts/db-deps.sh), each in a temporary directory on a free loopback port, stopped
// when the test ends. A missing server skips the test, except under CI=true where it fails.
package testdb

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// PostgresBinDir is where Debian's postgresql-15 installs its server programs ($POSTGRES_BIN_DIR
// overrides it).
func PostgresBinDir() string {
	if d := os.Getenv("POSTGRES_BIN_DIR"); d != "" {
		return d
	}
	return "/usr/lib/postgresql/15/bin"
}

// missing skips the test, or fails it under CI=true, naming what is missing and the script that
// installs it.
func missing(t testing.TB, what string) {
	t.Helper()
	msg := fmt.Sprintf("%s not installed (run scripts/db-deps.sh)", what)
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// FreePort returns a free loopback TCP port.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Postgres is a running PostgreSQL server.
type Postgres struct {
	// URL connects as the superuser "modellens" (password "modellens-secret") to database
	// "modellens": postgres://modellens:modellens-secret@127.0.0.1:PORT/modellens?sslmode=disable.
	URL      string
	Host     string
	Port     int
	User     string
	Password string
	Database string
	// Dir is the data directory (its server.log holds the server's log).
	Dir string
}

// URLWithoutPassword is URL without the password (what the plugin's settings hold: the password
// comes from secureJsonData).
func (p *Postgres) URLWithoutPassword() string {
	return fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", p.User, p.Host, p.Port, p.Database)
}

// Conn opens a connection to the server's database; closed when the test ends.
func (p *Postgres) Conn(t testing.TB) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := pgx.Connect(ctx, p.URL)
	if err != nil {
		t.Fatalf("connect to PostgreSQL: %v", err)
	}
	t.Cleanup(func() { _ = c.Close(context.Background()) })
	return c
}

// asPostgresUser runs a command as the postgres system user when the test runs as root (initdb
// refuses to run as root), else as the current user.
func asPostgresUser(name string, args ...string) *exec.Cmd {
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", name}, args...)...)
	}
	return exec.Command(name, args...)
}

// PostgresOption configures StartPostgres.
type PostgresOption func(*pgOptions)

type pgOptions struct {
	certPEM, keyPEM []byte
}

// WithTLS starts the server with ssl=on and the given PEM certificate (chain) and private key;
// clients may still connect without TLS (sslmode=disable), as the default URLs do.
func WithTLS(certPEM, keyPEM []byte) PostgresOption {
	return func(o *pgOptions) { o.certPEM, o.keyPEM = certPEM, keyPEM }
}

// StartPostgres initialises a cluster in a temporary directory, starts PostgreSQL on a free
// loopback port with password authentication and returns it; the server is stopped and its
// directory removed when the test ends.
func StartPostgres(t testing.TB, options ...PostgresOption) *Postgres {
	t.Helper()
	var o pgOptions
	for _, f := range options {
		f(&o)
	}
	bin := PostgresBinDir()
	initdb, server := filepath.Join(bin, "initdb"), filepath.Join(bin, "postgres")
	if _, err := os.Stat(initdb); err != nil {
		missing(t, "PostgreSQL 15 ("+initdb+")")
	}
	p := &Postgres{Host: "127.0.0.1", Port: FreePort(t), User: "modellens", Password: "modellens-secret", Database: "modellens"}
	base, err := os.MkdirTemp("", "modellens-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(base) })
	p.Dir = filepath.Join(base, "data")
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			missing(t, "the postgres system user")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	pwFile := filepath.Join(base, "pw")
	if err := os.WriteFile(pwFile, []byte(p.Password+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		_ = os.Chown(pwFile, uidOf("postgres"), -1)
	}
	out, err := asPostgresUser(initdb, "-D", p.Dir, "-U", p.User, "--pwfile", pwFile, "--auth", "scram-sha-256",
		"--encoding", "UTF8", "--locale", "C", "--no-sync").CombinedOutput()
	if err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	logPath := filepath.Join(base, "server.log")
	args := []string{"-D", p.Dir, "-p", strconv.Itoa(p.Port), "-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=" + base, "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "log_destination=stderr", "-c", "logging_collector=off",
		// Whole statements in pg_stat_activity (tests find theirs by text).
		"-c", "track_activity_query_size=65536"}
	if o.certPEM != nil {
		// The server refuses a key file that others can read; it must belong to the server's user.
		crt, key := filepath.Join(p.Dir, "server.crt"), filepath.Join(p.Dir, "server.key")
		if err := os.WriteFile(crt, o.certPEM, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(key, o.keyPEM, 0o600); err != nil {
			t.Fatal(err)
		}
		if os.Geteuid() == 0 {
			_ = os.Chown(crt, uidOf("postgres"), -1)
			_ = os.Chown(key, uidOf("postgres"), -1)
		}
		args = append(args, "-c", "ssl=on", "-c", "ssl_cert_file="+crt, "-c", "ssl_key_file="+key)
	}
	cmd := asPostgresUser(server, args...)
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	stopOnCleanup(t, cmd, logFile, "postgres")
	// Create the database, retrying until the server accepts connections.
	admin := fmt.Sprintf("postgres://%s:%s@%s:%d/postgres?sslmode=disable", p.User, p.Password, p.Host, p.Port)
	deadline := time.Now().Add(60 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		c, err := pgx.Connect(ctx, admin)
		if err == nil {
			_, err = c.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{p.Database}.Sanitize())
			_ = c.Close(ctx)
			cancel()
			if err != nil {
				t.Fatalf("create database: %v", err)
			}
			break
		}
		cancel()
		if time.Now().After(deadline) {
			tail, _ := os.ReadFile(logPath)
			t.Fatalf("PostgreSQL not ready after 60s: %v\n%s", err, tailLines(string(tail), 20))
		}
		time.Sleep(200 * time.Millisecond)
	}
	p.URL = fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", p.User, p.Password, p.Host, p.Port, p.Database)
	return p
}

func uidOf(name string) int {
	u, err := user.Lookup(name)
	if err != nil {
		return -1
	}
	uid, _ := strconv.Atoi(u.Uid)
	return uid
}

// Redis is a running Redis server.
type Redis struct {
	// Addr is host:port.
	Addr string
	Dir  string
}

// Client returns a go-redis client of the server; closed when the test ends.
func (r *Redis) Client(t testing.TB) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: r.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// StartRedis starts redis-server (no persistence) on a free loopback port and returns it; stopped
// when the test ends. args are extra configuration arguments ("--requirepass", "x").
func StartRedis(t testing.TB, args ...string) *Redis {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		missing(t, "Redis 7 (redis-server)")
	}
	dir := t.TempDir()
	port := FreePort(t)
	r := &Redis{Addr: fmt.Sprintf("127.0.0.1:%d", port), Dir: dir}
	cmd := exec.Command(bin, append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "",
		"--appendonly", "no", "--dir", dir}, args...)...)
	logFile, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	stopOnCleanup(t, cmd, logFile, "redis")
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", r.Addr, time.Second)
		if err == nil {
			conn.Close()
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis not ready after 30s: %v", err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// stopOnCleanup starts cmd in its own process group and stops the group when the test ends,
// printing the log's tail when the test failed.
func stopOnCleanup(t testing.TB, cmd *exec.Cmd, logFile *os.File, name string) {
	t.Helper()
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		pgid := cmd.Process.Pid
		// SIGINT is PostgreSQL's fast shutdown; Redis exits on it too.
		_ = syscall.Kill(-pgid, syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			<-done
		}
		logFile.Close()
		if t.Failed() {
			if b, err := os.ReadFile(logFile.Name()); err == nil {
				t.Logf("%s log (tail):\n%s", name, tailLines(string(b), 15))
			}
		}
	})
}

func tailLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
