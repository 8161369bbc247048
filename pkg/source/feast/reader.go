package feast

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"golang.org/x/sync/singleflight"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/settings"
)

// ErrNotConfigured is the error of a Feast query or resource on a data source without a Feast
// registry.
var ErrNotConfigured = errors.New("no Feast feature store is configured: set feast.project and feast.registry in the data source settings")

// ErrUnknownFeatureView marks a feature view that the registry's project does not have.
var ErrUnknownFeatureView = errors.New("feature view not in the Feast registry")

// Options configure a registry reader.
type Options struct {
	// Settings are the data source's validated Feast settings (a registry must be configured).
	Settings settings.FeastSettings
	// RegistryToken is the feastRegistryToken secret: the REST registry's bearer token or the SQL
	// registry's password.
	RegistryToken string
	// HTTP is the data source's base client (upstream.NewBase); the REST reader wraps it.
	HTTP *http.Client
	// Timeout bounds one registry read (shared by the callers waiting for it).
	Timeout time.Duration
	// TTL is how long a registry read is reused (default limits.FeastRegistryTTL).
	TTL time.Duration
}

// Reader is the registry of one data source instance: read from the configured file, SQL registry
// or REST registry server, restricted to the configured project, and reused for a short TTL. One
// read runs at a time however many queries ask (singleflight); failures are not cached.
type Reader struct {
	project string
	kind    string
	load    func(ctx context.Context) (*Registry, error)
	closer  io.Closer
	ttl     time.Duration
	timeout time.Duration
	now     func() time.Time

	group singleflight.Group
	mu    sync.Mutex
	reg   *Registry
	at    time.Time
}

// New returns the Reader of the configured registry; Close releases its connections.
func New(opts Options) (*Reader, error) {
	s := opts.Settings
	r := &Reader{project: s.Project, ttl: opts.TTL, timeout: opts.Timeout, now: time.Now}
	if r.ttl <= 0 {
		r.ttl = limits.FeastRegistryTTL
	}
	if r.timeout <= 0 {
		r.timeout = limits.DefaultTimeout
	}
	switch {
	case s.RegistryPath != "":
		r.kind = "registry file"
		path := s.RegistryPath
		r.load = func(ctx context.Context) (*Registry, error) { return readFile(ctx, path) }
	case s.RegistrySQL != "":
		r.kind = "SQL registry"
		sr, err := newSQLRegistry(s.RegistrySQL, opts.RegistryToken, s.Project)
		if err != nil {
			return nil, err
		}
		r.load, r.closer = sr.read, sr
	case s.RegistryURL != "":
		r.kind = "REST registry"
		rr, err := newRESTRegistry(opts.HTTP, s.RegistryURL, opts.RegistryToken, s.Project)
		if err != nil {
			return nil, err
		}
		r.load = rr.read
	default:
		return nil, errors.New("feast: no registry is configured")
	}
	return r, nil
}

// Close releases the reader's connections (the SQL registry's pool).
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

// Project is the configured Feast project.
func (r *Reader) Project() string { return r.project }

// Registry returns the project's registry, read at most once per TTL. Errors are downstream
// errors that say which registry failed and why.
func (r *Reader) Registry(ctx context.Context) (*Registry, error) {
	r.mu.Lock()
	if r.reg != nil && r.now().Sub(r.at) < r.ttl {
		reg := r.reg
		r.mu.Unlock()
		return reg, nil
	}
	r.mu.Unlock()
	ch := r.group.DoChan("registry", func() (any, error) {
		// The read outlives a caller that gives up (others may be waiting), within its own
		// timeout.
		lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.timeout)
		defer cancel()
		reg, err := r.load(lctx)
		if err != nil {
			return nil, backend.DownstreamError(fmt.Errorf("feast %s: %w", r.kind, err))
		}
		reg, err = forProject(reg, r.project)
		if err != nil {
			return nil, backend.DownstreamError(fmt.Errorf("feast %s: %w", r.kind, err))
		}
		r.mu.Lock()
		r.reg, r.at = reg, r.now()
		r.mu.Unlock()
		return reg, nil
	})
	select {
	case res := <-ch:
		if res.Err != nil {
			return nil, res.Err
		}
		return res.Val.(*Registry), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// FeatureView returns the project's view of that name, or an error wrapping
// ErrUnknownFeatureView that lists the views there are.
func (r *Reader) FeatureView(ctx context.Context, name string) (*Registry, *FeatureView, error) {
	reg, err := r.Registry(ctx)
	if err != nil {
		return nil, nil, err
	}
	if v, ok := reg.FeatureView(r.project, name); ok {
		return reg, v, nil
	}
	return nil, nil, backend.DownstreamError(fmt.Errorf("%w: %q is not a feature view of project %q (it has %s)",
		ErrUnknownFeatureView, name, r.project, listNames(reg.FeatureViewNames())))
}

// FeatureViewNames lists the registry's feature view names, sorted.
func (r *Registry) FeatureViewNames() []string {
	out := make([]string, 0, len(r.FeatureViews))
	for _, v := range r.FeatureViews {
		out = append(out, v.Name)
	}
	sort.Strings(out)
	return out
}

// listNames quotes at most ten names.
func listNames(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	const most = 10
	q := make([]string, 0, most)
	for i, n := range names {
		if i == most {
			return strings.Join(q, ", ") + fmt.Sprintf(" and %d more", len(names)-most)
		}
		q = append(q, fmt.Sprintf("%q", n))
	}
	return strings.Join(q, ", ")
}

// forProject keeps the objects of project (and those naming no project, as registries written
// before Feast had projects do). A project the registry does not know is an error listing the
// ones it has.
func forProject(r *Registry, project string) (*Registry, error) {
	known := map[string]bool{}
	for _, p := range r.Projects {
		known[p.Name] = true
	}
	for _, v := range r.FeatureViews {
		known[v.Project] = true
	}
	for _, e := range r.Entities {
		known[e.Project] = true
	}
	if !known[project] {
		var names []string
		for n := range known {
			if n != "" {
				names = append(names, n)
			}
		}
		sort.Strings(names)
		return nil, fmt.Errorf("project %q is not in the registry (it has %s): check feast.project", project, listNames(names))
	}
	out := &Registry{LastUpdated: r.LastUpdated, VersionID: r.VersionID}
	mine := func(p string) bool { return p == project || p == "" }
	for _, p := range r.Projects {
		if p.Name == project {
			out.Projects = append(out.Projects, p)
		}
	}
	for _, e := range r.Entities {
		if mine(e.Project) {
			out.Entities = append(out.Entities, e)
		}
	}
	for _, v := range r.FeatureViews {
		if mine(v.Project) {
			out.FeatureViews = append(out.FeatureViews, v)
		}
	}
	for _, s := range r.FeatureServices {
		if mine(s.Project) {
			out.FeatureServices = append(out.FeatureServices, s)
		}
	}
	for _, d := range r.DataSources {
		if mine(d.Project) {
			out.DataSources = append(out.DataSources, d)
		}
	}
	return out, nil
}

// readFile reads and decodes a registry file (at most limits.FeastRegistryBytes).
func readFile(ctx context.Context, path string) (*Registry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(path) // #nosec G304 -- the path is the data source's own setting
	if err != nil {
		switch {
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%s does not exist (check feast.registry.path)", path)
		case errors.Is(err, fs.ErrPermission):
			return nil, fmt.Errorf("%s cannot be read: permission denied", path)
		}
		return nil, fmt.Errorf("cannot open %s", path)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s", path)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a registry file", path)
	}
	if st.Size() > limits.FeastRegistryBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, limits.FeastRegistryBytes>>20)
	}
	b, err := io.ReadAll(io.LimitReader(f, limits.FeastRegistryBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s", path)
	}
	if int64(len(b)) > limits.FeastRegistryBytes {
		return nil, fmt.Errorf("%s is larger than %d MiB", path, limits.FeastRegistryBytes>>20)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s is empty", path)
	}
	return DecodeRegistry(b)
}
