// Package packaging checks plugin.json and writes and checks the plugin archive that Grafana's
// catalog and `grafana cli plugins install --pluginUrl` expect: a zip with a single directory named
// after the plugin id holding the built frontend, the backend executables (mode 0755), the Go build
// manifest, plugin.json, README.md, CHANGELOG.md, LICENSE, the logos, screenshots and dashboards.
package packaging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// IDPattern is the plugin id rule of the plugin catalog: <org>-[<name>-]<type>, lower-case letters
// and digits only.
var IDPattern = regexp.MustCompile(`^[0-9a-z]+\-([0-9a-z]+\-)?(app|panel|datasource)$`)

// Patterns of info.version and info.updated from plugin.schema.json; the placeholders are replaced
// by the frontend build.
var (
	versionPattern    = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$`)
	datePattern       = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	grafanaDepPattern = regexp.MustCompile(`^(<=|>=|<|>|=|~|\^)?([0-9]+)(\.[0-9x\*]+)(\.[0-9x\*]+)?(\s(<=|>=|<|=>)?([0-9]+)(\.[0-9x]+)(\.[0-9x]+))?$`)
)

// Placeholders the frontend build replaces in plugin.json.
const (
	VersionPlaceholder = "%VERSION%"
	TodayPlaceholder   = "%TODAY%"
)

// TopLevelKeys are the properties plugin.schema.json allows at the top level of plugin.json
// (grafana/grafana docs/sources/developers/plugins/plugin.schema.json, which sets
// additionalProperties: false), plus the keys added to the schema since that copy (iam, languages,
// docsPath, roles, extensions, multiValueFilterOperators) and buildMode, which the bundler writes
// into the built plugin.json.
var TopLevelKeys = []string{
	"$schema", "alerting", "annotations", "autoEnabled", "backend", "buildMode", "builtIn", "category",
	"dependencies", "docsPath", "enterpriseFeatures", "executable", "extensions", "hideFromList", "iam",
	"id", "includes", "info", "languages", "logs", "metrics", "mixed", "multiValueFilterOperators",
	"name", "pascalName", "preload", "queryOptions", "roles", "routes", "skipDataQuery", "state",
	"streaming", "tracing", "type",
}

var (
	pluginTypes  = []string{"app", "datasource", "panel", "renderer", "secretsmanager", "transformer"}
	includeTypes = []string{"dashboard", "page", "panel", "datasource", "secretsmanager"}
	categories   = []string{"tsdb", "logging", "cloud", "tracing", "profiling", "sql", "enterprise", "iot", "other"}
)

// PluginJSON is the part of plugin.json that packaging and its checks use.
type PluginJSON struct {
	Type       string `json:"type"`
	Name       string `json:"name"`
	ID         string `json:"id"`
	Category   string `json:"category"`
	Backend    bool   `json:"backend"`
	Alerting   bool   `json:"alerting"`
	Executable string `json:"executable"`
	Info       struct {
		Description string   `json:"description"`
		Keywords    []string `json:"keywords"`
		Logos       struct {
			Small string `json:"small"`
			Large string `json:"large"`
		} `json:"logos"`
		Screenshots []struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"screenshots"`
		Version string `json:"version"`
		Updated string `json:"updated"`
	} `json:"info"`
	Includes []struct {
		Type string `json:"type"`
		Name string `json:"name"`
		Path string `json:"path"`
	} `json:"includes"`
	Dependencies struct {
		GrafanaDependency string `json:"grafanaDependency"`
	} `json:"dependencies"`
}

// Files lists the files plugin.json refers to (logos, screenshots, included dashboards), as paths
// relative to the plugin directory, sorted and without duplicates.
func (p *PluginJSON) Files() []string {
	set := map[string]bool{}
	add := func(s string) {
		if s != "" {
			set[path.Clean(s)] = true
		}
	}
	add(p.Info.Logos.Small)
	add(p.Info.Logos.Large)
	for _, s := range p.Info.Screenshots {
		add(s.Path)
	}
	for _, in := range p.Includes {
		add(in.Path)
	}
	out := make([]string, 0, len(set))
	for f := range set {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// ParsePluginJSON decodes and validates plugin.json. With built set, the file must be the one the
// frontend build wrote into dist: %VERSION% and %TODAY% replaced by a semantic version and a date.
// All problems are reported together.
func ParsePluginJSON(raw []byte, built bool) (*PluginJSON, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, fmt.Errorf("plugin.json is not a JSON object: %w", err)
	}
	var p PluginJSON
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&p); err != nil {
		return nil, fmt.Errorf("plugin.json: %w", err)
	}
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var unknown []string
	for k := range top {
		if !slices.Contains(TopLevelKeys, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		bad("unknown top-level keys %q (plugin.schema.json allows no others)", unknown)
	}
	for _, k := range []string{"type", "name", "id", "info", "dependencies"} {
		if _, ok := top[k]; !ok {
			bad("required key %q is missing", k)
		}
	}
	if !IDPattern.MatchString(p.ID) {
		bad("id %q does not match %s", p.ID, IDPattern)
	}
	if !slices.Contains(pluginTypes, p.Type) {
		bad("type %q is not one of %q", p.Type, pluginTypes)
	} else if (p.Type == "datasource" || p.Type == "app" || p.Type == "panel") && !strings.HasSuffix(p.ID, "-"+p.Type) {
		bad("id %q must end with -%s for a %s plugin", p.ID, p.Type, p.Type)
	}
	if strings.TrimSpace(p.Name) == "" {
		bad("name is empty")
	} else if p.Name == p.ID {
		bad("name must differ from the id")
	}
	if p.Category != "" && !slices.Contains(categories, p.Category) {
		bad("category %q is not one of %q", p.Category, categories)
	}
	if p.Alerting && !p.Backend {
		bad("alerting requires backend: true")
	}
	if p.Backend && strings.TrimSpace(p.Executable) == "" {
		bad("backend: true needs an executable name")
	}
	if p.Executable != "" && (strings.ContainsAny(p.Executable, `/\`) || !strings.HasPrefix(p.Executable, "gpx_")) {
		bad("executable %q must be a plain file name starting with gpx_", p.Executable)
	}
	if p.Info.Logos.Small == "" || p.Info.Logos.Large == "" {
		bad("info.logos needs both small and large")
	}
	for _, l := range []string{p.Info.Logos.Small, p.Info.Logos.Large} {
		if l != "" && !strings.HasSuffix(l, ".svg") {
			bad("logo %q must be an SVG image", l)
		}
	}
	if len(p.Info.Keywords) == 0 {
		bad("info.keywords needs at least one keyword")
	}
	if strings.TrimSpace(p.Info.Description) == "" {
		bad("info.description is empty")
	}
	switch {
	case built && !versionPattern.MatchString(p.Info.Version):
		bad("info.version %q is not a semantic version (was %%VERSION%% replaced by the build?)", p.Info.Version)
	case !built && p.Info.Version != VersionPlaceholder && !versionPattern.MatchString(p.Info.Version):
		bad("info.version %q is neither %s nor a semantic version", p.Info.Version, VersionPlaceholder)
	}
	switch {
	case built && !datePattern.MatchString(p.Info.Updated):
		bad("info.updated %q is not a YYYY-MM-DD date (was %%TODAY%% replaced by the build?)", p.Info.Updated)
	case !built && p.Info.Updated != TodayPlaceholder && !datePattern.MatchString(p.Info.Updated):
		bad("info.updated %q is neither %s nor a YYYY-MM-DD date", p.Info.Updated, TodayPlaceholder)
	}
	for i, s := range p.Info.Screenshots {
		if s.Name == "" || s.Path == "" {
			bad("info.screenshots[%d] needs a name and a path", i)
		}
	}
	if !grafanaDepPattern.MatchString(p.Dependencies.GrafanaDependency) {
		bad("dependencies.grafanaDependency %q is not a version range like >=12.3.0", p.Dependencies.GrafanaDependency)
	}
	for i, in := range p.Includes {
		if !slices.Contains(includeTypes, in.Type) {
			bad("includes[%d].type %q is not one of %q", i, in.Type, includeTypes)
		}
		if in.Name == "" {
			bad("includes[%d] has no name", i)
		}
		if in.Type == "dashboard" && !strings.HasSuffix(in.Path, ".json") {
			bad("includes[%d] (%s): a dashboard path must name a .json file, got %q", i, in.Name, in.Path)
		}
	}
	for _, f := range p.Files() {
		if !localPath(f) {
			bad("path %q in plugin.json must be relative and stay inside the plugin directory", f)
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("plugin.json is invalid: %w", errors.Join(errs...))
	}
	return &p, nil
}

// localPath reports whether p is a clean relative slash path that stays inside its directory.
func localPath(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, `\`) {
		return false
	}
	c := path.Clean(p)
	return c != "." && c != ".." && !strings.HasPrefix(c, "../")
}
