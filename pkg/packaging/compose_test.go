package packaging

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
)

// compose is the part of docker-compose.yaml the demo depends on.
type compose struct {
	Services map[string]struct {
		Image string `yaml:"image"`
		Build *struct {
			Context    string `yaml:"context"`
			Dockerfile string `yaml:"dockerfile"`
			Target     string `yaml:"target"`
		} `yaml:"build"`
		Command     []string          `yaml:"command"`
		Ports       []string          `yaml:"ports"`
		Environment map[string]string `yaml:"environment"`
		Volumes     []string          `yaml:"volumes"`
		DependsOn   dependsOn         `yaml:"depends_on"`
		Healthcheck *struct {
			Test []string `yaml:"test"`
		} `yaml:"healthcheck"`
	} `yaml:"services"`
	// Volumes are the named volumes.
	Volumes map[string]any `yaml:"volumes"`
}

// dependsOn is a service's depends_on in either compose form: a list of service names, or a map
// from service name to {condition: ...}; a list entry's condition is "service_started".
type dependsOn map[string]string

func (d *dependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = dependsOn{}
	if n.Kind == yaml.SequenceNode {
		var names []string
		if err := n.Decode(&names); err != nil {
			return err
		}
		for _, s := range names {
			(*d)[s] = "service_started"
		}
		return nil
	}
	var m map[string]struct {
		Condition string `yaml:"condition"`
	}
	if err := n.Decode(&m); err != nil {
		return err
	}
	for s, c := range m {
		if c.Condition == "" {
			c.Condition = "service_started"
		}
		(*d)[s] = c.Condition
	}
	return nil
}

// dockerStage is one FROM ... AS name stage of the Dockerfile with its instructions.
type dockerStage struct {
	Name, From string
	Lines      []string
}

// parseDockerfile splits a Dockerfile into stages, joining continuation lines.
func parseDockerfile(t *testing.T, b []byte) (args map[string]string, stages []dockerStage) {
	t.Helper()
	args = map[string]string{}
	var logical []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			cur.WriteString(strings.TrimSuffix(line, `\`) + " ")
			continue
		}
		cur.WriteString(line)
		logical = append(logical, cur.String())
		cur.Reset()
	}
	require.NoError(t, sc.Err())
	from := regexp.MustCompile(`(?i)^FROM\s+(\S+)(?:\s+AS\s+(\S+))?$`)
	for _, l := range logical {
		if m := from.FindStringSubmatch(l); m != nil {
			stages = append(stages, dockerStage{Name: m[2], From: m[1]})
			continue
		}
		if len(stages) == 0 {
			if a, ok := strings.CutPrefix(l, "ARG "); ok {
				k, v, _ := strings.Cut(a, "=")
				args[k] = v
			}
			continue
		}
		stages[len(stages)-1].Lines = append(stages[len(stages)-1].Lines, l)
	}
	return args, stages
}

func stageByName(stages []dockerStage, name string) (dockerStage, int) {
	for i, s := range stages {
		if s.Name == name {
			return s, i
		}
	}
	return dockerStage{}, -1
}

func hasLine(s dockerStage, re string) bool {
	r := regexp.MustCompile(re)
	return slices.ContainsFunc(s.Lines, r.MatchString)
}

func TestDockerCompose(t *testing.T) {
	root := repoRoot(t)
	var c compose
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(root, "docker-compose.yaml")), &c))
	args, stages := parseDockerfile(t, readFile(t, filepath.Join(root, "Dockerfile")))

	for _, name := range []string{"grafana", "demo-model", "prometheus", "postgres", "demo-pg"} {
		require.Contains(t, c.Services, name, "service %s", name)
	}
	// Services built from this repository name a stage of its Dockerfile.
	for name, s := range c.Services {
		if s.Build == nil {
			require.NotEmpty(t, s.Image, "service %s has neither build nor image", name)
			continue
		}
		require.Equal(t, ".", s.Build.Context, name)
		require.Equal(t, "Dockerfile", s.Build.Dockerfile, name)
		_, i := stageByName(stages, s.Build.Target)
		require.GreaterOrEqual(t, i, 0, "service %s builds target %q, which is not a Dockerfile stage", name, s.Build.Target)
	}
	for name, s := range c.Services {
		for d := range s.DependsOn {
			require.Contains(t, c.Services, d, "service %s depends on unknown service %s", name, d)
		}
	}

	// Every bind mount's host path exists in the repository; other mounts are declared named volumes.
	mounts := map[string]string{} // container path -> host path (relative to the repository)
	named := map[string]string{}  // service:container path -> named volume
	for name, s := range c.Services {
		for _, v := range s.Volumes {
			parts := strings.Split(v, ":")
			require.GreaterOrEqual(t, len(parts), 2, "volume %q of %s", v, name)
			host, ctr := parts[0], parts[1]
			if _, ok := c.Volumes[host]; ok && !strings.Contains(host, "/") {
				named[name+":"+ctr] = host
				continue
			}
			require.True(t, strings.HasPrefix(host, "./"), "volume %q of %s should be a repository path", v, name)
			_, err := os.Stat(filepath.Join(root, filepath.FromSlash(host)))
			require.NoError(t, err, "service %s mounts %s, which does not exist", name, host)
			mounts[name+":"+ctr] = strings.TrimPrefix(host, "./")
		}
	}

	// The Feast registry file demo-feast writes is where the provisioned data source reads it, in
	// a volume Grafana mounts read-only.
	require.Contains(t, c.Services, "demo-feast")
	require.Contains(t, c.Services, "redis")
	require.Equal(t, "feast-registry", named["demo-feast:/var/lib/feast"])
	require.Equal(t, "feast-registry", named["grafana:/var/lib/feast"])
	require.Contains(t, c.Services["grafana"].Volumes, "feast-registry:/var/lib/feast:ro")
	require.Contains(t, strings.Join(c.Services["demo-feast"].Command, " "), "-registry /var/lib/feast/registry.db")
	require.Contains(t, strings.Join(c.Services["demo-feast"].Command, " "), "-redis redis:6379")

	// Grafana: the image built from source, on :3000, unsigned plugin allowed, provisioning mounted.
	g := c.Services["grafana"]
	require.Equal(t, "grafana", g.Build.Target)
	require.Contains(t, g.Ports, "3000:3000")
	require.Equal(t, testID, g.Environment["GF_PLUGINS_ALLOW_LOADING_UNSIGNED_PLUGINS"])
	require.Equal(t, "provisioning/datasources", mounts["grafana:/etc/grafana/provisioning/datasources"])
	require.Equal(t, "provisioning/dashboards", mounts["grafana:/etc/grafana/provisioning/dashboards"])
	require.Equal(t, "provisioning/alerting", mounts["grafana:/etc/grafana/provisioning/alerting"])
	require.Equal(t, "dashboards", mounts["grafana:/var/lib/grafana/dashboards/modellens"])
	// The dashboard provider reads the directory the dashboards are mounted at.
	var providers struct {
		Providers []struct {
			Type    string `yaml:"type"`
			Options struct {
				Path string `yaml:"path"`
			} `yaml:"options"`
		} `yaml:"providers"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(root, "provisioning", "dashboards", "modellens.yaml")), &providers))
	require.Len(t, providers.Providers, 1)
	require.Equal(t, "file", providers.Providers[0].Type)
	require.Equal(t, "/var/lib/grafana/dashboards/modellens", providers.Providers[0].Options.Path)
	if home := g.Environment["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]; home != "" {
		rel, ok := strings.CutPrefix(home, "/var/lib/grafana/dashboards/modellens/")
		require.True(t, ok, "home dashboard %s is not one of the mounted dashboards", home)
		_, err := os.Stat(filepath.Join(root, "dashboards", rel))
		require.NoError(t, err)
	}

	// The demo model server listens on :8090, published on 8090.
	d := c.Services["demo-model"]
	require.Equal(t, []string{"-listen", ":8090"}, d.Command)
	require.Contains(t, d.Ports, "8090:8090")

	// Prometheus reads the repository's configuration and scrapes the demo model server every 5s.
	p := c.Services["prometheus"]
	require.Contains(t, p.Ports, "9090:9090")
	cfgPath := ""
	for _, a := range p.Command {
		if v, ok := strings.CutPrefix(a, "--config.file="); ok {
			cfgPath = v
		}
	}
	require.NotEmpty(t, cfgPath, "prometheus needs --config.file")
	hostCfg := mounts["prometheus:"+cfgPath]
	require.Equal(t, "provisioning/prometheus/prometheus.yml", hostCfg)
	var prom struct {
		ScrapeConfigs []struct {
			JobName        string `yaml:"job_name"`
			ScrapeInterval string `yaml:"scrape_interval"`
			MetricsPath    string `yaml:"metrics_path"`
			StaticConfigs  []struct {
				Targets []string `yaml:"targets"`
			} `yaml:"static_configs"`
		} `yaml:"scrape_configs"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(root, filepath.FromSlash(hostCfg))), &prom))
	found := false
	for _, sc := range prom.ScrapeConfigs {
		for _, st := range sc.StaticConfigs {
			for _, target := range st.Targets {
				host, port, err := net.SplitHostPort(target)
				require.NoError(t, err)
				require.Contains(t, c.Services, host, "scrape target %s is not a compose service", target)
				if host == "demo-model" && port == "8090" {
					found = true
					require.Equal(t, "5s", sc.ScrapeInterval)
					require.Contains(t, []string{"", "/metrics"}, sc.MetricsPath)
				}
			}
		}
	}
	require.True(t, found, "prometheus.yml does not scrape demo-model:8090")

	// PostgreSQL 15 for the sql source: healthy once it accepts TCP connections, the read-only
	// role created at initialisation; demo-pg loads the demo fleet once it is healthy, with the
	// password from PGPASSWORD rather than on its command line.
	pg := c.Services["postgres"]
	require.Regexp(t, `^postgres:15(\.\d+)?(-\w+)?$`, pg.Image, "PostgreSQL 15")
	require.Equal(t, "provisioning/postgres/init.sql", mounts[containerPathUnder(t, mounts, "postgres:/docker-entrypoint-initdb.d/")])
	require.NotNil(t, pg.Healthcheck, "postgres needs a healthcheck for depends_on: service_healthy")
	require.Contains(t, strings.Join(pg.Healthcheck.Test, " "), "pg_isready -h 127.0.0.1")
	require.Contains(t, pg.Ports, "5433:5432")
	loader := c.Services["demo-pg"]
	require.Equal(t, "demo-pg", loader.Build.Target)
	require.Equal(t, "service_healthy", loader.DependsOn["postgres"])
	require.Equal(t, pg.Environment["POSTGRES_PASSWORD"], loader.Environment["PGPASSWORD"])
	flags := map[string]string{}
	for i := 0; i+1 < len(loader.Command); i += 2 {
		require.True(t, strings.HasPrefix(loader.Command[i], "-"), "demo-pg command %v: flag value pairs", loader.Command)
		flags[loader.Command[i]] = loader.Command[i+1]
	}
	require.Len(t, loader.Command, 2*len(flags))
	u, err := url.Parse(flags["-postgres"])
	require.NoError(t, err)
	_, hasPassword := u.User.Password()
	require.False(t, hasPassword, "the loader's URL carries no password")
	require.Equal(t, "postgres", u.Hostname())
	require.Equal(t, "5432", u.Port())
	require.Equal(t, pg.Environment["POSTGRES_USER"], u.User.Username())
	require.Equal(t, "/"+pg.Environment["POSTGRES_DB"], u.Path)
	require.NotEmpty(t, flags["-follow"], "the loader keeps the table current")
	_, err = os.Stat(filepath.Join(root, "pkg", "cmd", "demo-pg"))
	require.NoError(t, err)

	// The Dockerfile builds the plugin from source in the stages the images need.
	fe, _ := stageByName(stages, "frontend")
	require.True(t, hasLine(fe, `^RUN npx -y npm@10 ci\b`), "frontend stage runs npm ci")
	require.True(t, hasLine(fe, `^RUN npm run build$`), "frontend stage runs the webpack build")
	be, _ := stageByName(stages, "backend")
	require.True(t, hasLine(be, `go run github.com/magefile/mage -v "\$\{target\}"`), "backend stage runs mage")
	require.True(t, hasLine(be, `build:linux\b`), "backend stage builds the linux plugin executable")
	require.True(t, hasLine(be, `go build .* -o /out/demo-model ./pkg/cmd/demo-model`), "backend stage builds the demo model server")
	require.True(t, hasLine(be, `go build .* -o /out/demo-pg ./pkg/cmd/demo-pg`), "backend stage builds the demo PostgreSQL loader")
	_, err = os.Stat(filepath.Join(root, "pkg", "cmd", "demo-model"))
	require.NoError(t, err)
	gs, gi := stageByName(stages, "grafana")
	require.True(t, strings.HasPrefix(gs.From, "grafana/grafana:"), "grafana stage is based on %s", gs.From)
	require.Regexp(t, `^12\.\d+\.\d+$`, args["GRAFANA_VERSION"], "Grafana 12.x")
	pluginDir := "/var/lib/grafana/plugins/" + testID + "/"
	require.True(t, hasLine(gs, `^COPY --from=frontend /src/dist/ `+regexp.QuoteMeta(pluginDir)+`$`))
	require.True(t, hasLine(gs, `^COPY --from=backend /src/dist/ `+regexp.QuoteMeta(pluginDir)+`$`))
	dm, _ := stageByName(stages, "demo-model")
	require.True(t, hasLine(dm, `^COPY --from=backend /out/demo-model `))
	require.True(t, hasLine(dm, `^EXPOSE 8090$`))
	dp, _ := stageByName(stages, "demo-pg")
	require.True(t, hasLine(dp, `^COPY --from=backend /out/demo-pg /usr/local/bin/demo-pg$`))
	require.True(t, hasLine(dp, `^ENTRYPOINT \["/usr/local/bin/demo-pg"\]$`))
	// COPY --from names an earlier stage.
	for i, s := range stages {
		for _, l := range s.Lines {
			if m := regexp.MustCompile(`--from=(\S+)`).FindStringSubmatch(l); m != nil {
				_, j := stageByName(stages, m[1])
				require.True(t, j >= 0 && j < i, "stage %s copies from %s, which is not an earlier stage", s.Name, m[1])
			}
		}
	}
	require.Greater(t, gi, 0)

	// Files the image build copies must not be excluded from the build context.
	ignore := string(readFile(t, filepath.Join(root, ".dockerignore")))
	for _, keep := range []string{"package.json", "package-lock.json", "go.mod", "go.sum", "plugin.json", "dashboards", "src", "pkg"} {
		for _, line := range strings.Split(ignore, "\n") {
			require.NotEqual(t, keep, strings.TrimSpace(line), ".dockerignore excludes %s", keep)
		}
	}
	for _, must := range []string{"node_modules", "dist"} {
		require.Contains(t, strings.Split(ignore, "\n"), must, ".dockerignore should exclude %s", must)
	}
}

// containerPathUnder returns the key of mounts (service:container path) under prefix; it fails
// unless exactly one is.
func containerPathUnder(t *testing.T, mounts map[string]string, prefix string) string {
	t.Helper()
	var found []string
	for k := range mounts {
		if strings.HasPrefix(k, prefix) {
			found = append(found, k)
		}
	}
	require.Len(t, found, 1, "mounts under %s", prefix)
	return found[0]
}

// TestProvisionedServerURLsPointAtComposeServices checks that the data sources provisioned for the
// demo reach the services docker-compose.yaml runs, on their ports.
func TestProvisionedServerURLsPointAtComposeServices(t *testing.T) {
	root := repoRoot(t)
	var c compose
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(root, "docker-compose.yaml")), &c))
	var ds struct {
		Datasources []struct {
			UID      string            `yaml:"uid"`
			Type     string            `yaml:"type"`
			URL      string            `yaml:"url"`
			JSONData map[string]any    `yaml:"jsonData"`
			Secure   map[string]string `yaml:"secureJsonData"`
		} `yaml:"datasources"`
	}
	require.NoError(t, yaml.Unmarshal(readFile(t, filepath.Join(root, "provisioning", "datasources", "modellens.yaml")), &ds))
	ports := map[string]string{"demo-model": "8090", "prometheus": "9090"}
	check := func(what, raw string) {
		t.Helper()
		re := regexp.MustCompile(`^http://([a-z0-9-]+):(\d+)(/.*)?$`)
		m := re.FindStringSubmatch(raw)
		require.NotNil(t, m, "%s: %q is not http://service:port", what, raw)
		require.Contains(t, c.Services, m[1], "%s: %s is not a compose service", what, m[1])
		require.Equal(t, ports[m[1]], m[2], "%s: wrong port for %s", what, m[1])
	}
	urls := 0
	for _, d := range ds.Datasources {
		if d.URL != "" {
			check(d.UID+" url", d.URL)
			urls++
		}
		for _, k := range []string{"predictionLog", "prometheus"} {
			if sub, ok := d.JSONData[k].(map[string]any); ok {
				check(fmt.Sprintf("%s jsonData.%s.url", d.UID, k), sub["url"].(string))
				urls++
			}
		}
		if eps, ok := d.JSONData["endpoints"].([]any); ok {
			for _, e := range eps {
				check(d.UID+" endpoint", e.(map[string]any)["url"].(string))
				urls++
			}
		}
	}
	require.Equal(t, 4, urls, "the Prometheus data source, and the demo server data source's prediction log, Prometheus and endpoint")

	// The PostgreSQL data source reaches the postgres service as the role init.sql creates, with
	// that role's password in secureJsonData (never in the URL).
	initSQL := string(readFile(t, filepath.Join(root, "provisioning", "postgres", "init.sql")))
	sqlSources := 0
	for _, d := range ds.Datasources {
		sub, ok := d.JSONData["sql"].(map[string]any)
		if !ok {
			continue
		}
		sqlSources++
		u, err := url.Parse(sub["url"].(string))
		require.NoError(t, err)
		require.Equal(t, "postgres", u.Scheme)
		require.Contains(t, c.Services, u.Hostname(), "%s: sql.url host is not a compose service", d.UID)
		require.Equal(t, "5432", u.Port())
		_, hasPassword := u.User.Password()
		require.False(t, hasPassword)
		role := regexp.MustCompile(`(?m)^CREATE ROLE (\w+) LOGIN PASSWORD '([^']*)';$`).FindStringSubmatch(initSQL)
		require.NotNil(t, role, "init.sql creates a login role")
		require.Equal(t, role[1], u.User.Username(), "%s connects as the role init.sql creates", d.UID)
		require.Equal(t, role[2], d.Secure["sqlPassword"], "%s: secureJsonData.sqlPassword is the role's password", d.UID)
		require.Contains(t, initSQL, "GRANT SELECT ON TABLES TO "+role[1])
	}
	require.Equal(t, 1, sqlSources, "the ModelLens (PostgreSQL) data source")
}

// TestPrometheusConfigWithPromtool checks provisioning/prometheus/prometheus.yml with Prometheus'
// own checker. promtool is a test dependency (Debian's prometheus package ships /usr/bin/promtool;
// scripts/install-deps.sh installs it): without it the test fails rather than passing unchecked.
func TestPrometheusConfigWithPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	require.NoError(t, err, "promtool is required to check the Prometheus configuration: install Debian's prometheus package (bash scripts/install-deps.sh)")
	out, err := exec.Command(promtool, "check", "config", filepath.Join(repoRoot(t), "provisioning", "prometheus", "prometheus.yml")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	require.Contains(t, string(out), "SUCCESS")
}
