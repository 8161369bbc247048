package feast

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/limits"
	"github.com/modellens/mlmonitoring-datasource/pkg/source/upstream"
)

// restRegistry reads Feast's REST registry server (`feast serve_registry --rest-api`, v0.50.0+;
// sdk/python/feast/api/registry/rest/): GET /api/v1/{projects,entities,data_sources,
// feature_views,feature_services}?project=P, paginated (page, limit ≤ 100, pagination.hasNext).
// The answers are protobuf MessageToDict JSON: camelCase keys, enums by name, Timestamps as
// RFC 3339, Durations as "<seconds>s", bytes in base64, default values left out.
type restRegistry struct {
	client  *upstream.Client
	base    string
	project string
}

func newRESTRegistry(base *http.Client, rawURL, token, project string) (*restRegistry, error) {
	c, err := upstream.NewClient(base, upstream.Config{URL: rawURL, Token: token, MaxBody: limits.FeastRegistryBytes})
	if err != nil {
		return nil, fmt.Errorf("feast.registry.url: %w", err)
	}
	b := strings.TrimRight(rawURL, "/")
	if !strings.HasSuffix(b, "/api/v1") {
		b += "/api/v1"
	}
	return &restRegistry{client: c, base: b, project: project}, nil
}

// JSON shapes of the REST answers (only the keys read).
type (
	restTimestamp string // RFC 3339
	restDuration  string // "777600000s", "1.5s"

	restField struct {
		Name      string          `json:"name"`
		ValueType json.RawMessage `json:"valueType"`
	}
	restProject struct {
		Spec struct {
			Name        string `json:"name"`
			Description string `json:"description"`
			Owner       string `json:"owner"`
		} `json:"spec"`
		Meta struct {
			Created     restTimestamp `json:"createdTimestamp"`
			LastUpdated restTimestamp `json:"lastUpdatedTimestamp"`
		} `json:"meta"`
	}
	restEntity struct {
		Spec struct {
			Name        string          `json:"name"`
			Project     string          `json:"project"`
			ValueType   json.RawMessage `json:"valueType"`
			Description string          `json:"description"`
			JoinKey     string          `json:"joinKey"`
		} `json:"spec"`
	}
	restOptions struct {
		URI           string `json:"uri"`
		Table         string `json:"table"`
		Query         string `json:"query"`
		Path          string `json:"path"`
		Configuration string `json:"configuration"` // base64 (custom sources)
	}
	restDataSource struct {
		Name                   string            `json:"name"`
		Project                string            `json:"project"`
		Type                   json.RawMessage   `json:"type"`
		FieldMapping           map[string]string `json:"fieldMapping"`
		TimestampField         string            `json:"timestampField"`
		CreatedTimestampColumn string            `json:"createdTimestampColumn"`
		Class                  string            `json:"dataSourceClassType"`
		FileOptions            *restOptions      `json:"fileOptions"`
		BigqueryOptions        *restOptions      `json:"bigqueryOptions"`
		RedshiftOptions        *restOptions      `json:"redshiftOptions"`
		SnowflakeOptions       *restOptions      `json:"snowflakeOptions"`
		SparkOptions           *restOptions      `json:"sparkOptions"`
		TrinoOptions           *restOptions      `json:"trinoOptions"`
		AthenaOptions          *restOptions      `json:"athenaOptions"`
		CustomOptions          *restOptions      `json:"customOptions"`
	}
	restFeatureView struct {
		Type string `json:"type"`
		Spec struct {
			Name          string            `json:"name"`
			Project       string            `json:"project"`
			Entities      []string          `json:"entities"`
			Features      []restField       `json:"features"`
			EntityColumns []restField       `json:"entityColumns"`
			Tags          map[string]string `json:"tags"`
			TTL           restDuration      `json:"ttl"`
			BatchSource   *restDataSource   `json:"batchSource"`
			Online        bool              `json:"online"`
			Owner         string            `json:"owner"`
		} `json:"spec"`
		Meta struct {
			Created      restTimestamp `json:"createdTimestamp"`
			LastUpdated  restTimestamp `json:"lastUpdatedTimestamp"`
			Materialized []struct {
				Start restTimestamp `json:"startTime"`
				End   restTimestamp `json:"endTime"`
			} `json:"materializationIntervals"`
		} `json:"meta"`
	}
	restFeatureService struct {
		Spec struct {
			Name     string `json:"name"`
			Project  string `json:"project"`
			Features []struct {
				FeatureViewName string      `json:"featureViewName"`
				FeatureColumns  []restField `json:"featureColumns"`
			} `json:"features"`
			Description   string `json:"description"`
			Owner         string `json:"owner"`
			LoggingConfig *struct {
				SampleRate float32 `json:"sampleRate"`
			} `json:"loggingConfig"`
		} `json:"spec"`
	}
	restPagination struct {
		HasNext bool `json:"hasNext"`
	}
)

func (r *restRegistry) read(ctx context.Context) (*Registry, error) {
	reg := &Registry{}
	var projects []restProject
	if err := r.list(ctx, "projects", false, "projects", &projects); err != nil {
		return nil, err
	}
	for _, p := range projects {
		if p.Spec.Name != r.project {
			continue
		}
		created, err := p.Meta.Created.time("projects.meta.createdTimestamp")
		if err != nil {
			return nil, err
		}
		updated, err := p.Meta.LastUpdated.time("projects.meta.lastUpdatedTimestamp")
		if err != nil {
			return nil, err
		}
		reg.Projects = append(reg.Projects, Project{Name: p.Spec.Name, Description: p.Spec.Description,
			Owner: p.Spec.Owner, Created: created, LastUpdated: updated})
	}
	if len(reg.Projects) == 0 {
		return nil, fmt.Errorf("project %q is not on the registry server (check feast.project)", r.project)
	}
	var ents []restEntity
	if err := r.list(ctx, "entities", true, "entities", &ents); err != nil {
		return nil, err
	}
	for i, e := range ents {
		vt, err := valueTypeJSON(e.Spec.ValueType, fmt.Sprintf("entities[%d].spec.valueType", i))
		if err != nil {
			return nil, err
		}
		ent := Entity{Name: e.Spec.Name, Project: orDefault(e.Spec.Project, r.project), JoinKey: orDefault(e.Spec.JoinKey, e.Spec.Name),
			ValueType: vt, Description: e.Spec.Description}
		reg.Entities = append(reg.Entities, ent)
	}
	var sources []restDataSource
	if err := r.list(ctx, "data_sources", true, "dataSources", &sources); err != nil {
		return nil, err
	}
	for i := range sources {
		d, err := sources[i].model(fmt.Sprintf("dataSources[%d]", i))
		if err != nil {
			return nil, err
		}
		reg.DataSources = append(reg.DataSources, d)
	}
	var views []restFeatureView
	if err := r.list(ctx, "feature_views", true, "featureViews", &views); err != nil {
		return nil, err
	}
	for i := range views {
		if views[i].Type != "" && views[i].Type != "featureView" {
			continue // on-demand and stream feature views are not materialized batch views
		}
		v, err := views[i].model(fmt.Sprintf("featureViews[%d]", i), r.project)
		if err != nil {
			return nil, err
		}
		reg.FeatureViews = append(reg.FeatureViews, v)
	}
	var services []restFeatureService
	if err := r.list(ctx, "feature_services", true, "featureServices", &services); err != nil {
		return nil, err
	}
	for i, s := range services {
		fs := FeatureService{Name: s.Spec.Name, Project: orDefault(s.Spec.Project, r.project), Description: s.Spec.Description, Owner: s.Spec.Owner}
		if s.Spec.LoggingConfig != nil {
			fs.LoggingSampleRate = s.Spec.LoggingConfig.SampleRate
		}
		if len(s.Spec.Features) > limits.MaxFeastFields {
			return nil, corrupt(fmt.Sprintf("featureServices[%d]", i), "more than %d feature view projections", limits.MaxFeastFields)
		}
		for j, p := range s.Spec.Features {
			fields, err := restFields(p.FeatureColumns, fmt.Sprintf("featureServices[%d].spec.features[%d]", i, j))
			if err != nil {
				return nil, err
			}
			fs.Features = append(fs.Features, FeatureViewProjection{FeatureView: p.FeatureViewName, Features: fields})
		}
		reg.FeatureServices = append(reg.FeatureServices, fs)
	}
	return reg, nil
}

// list reads every page of one list route into out (a pointer to a slice), at most
// limits.MaxFeastObjects items.
func (r *restRegistry) list(ctx context.Context, route string, perProject bool, key string, out any) error {
	var all []json.RawMessage
	maxPages := limits.MaxFeastObjects/limits.FeastRESTPageSize + 1
	for page := 1; ; page++ {
		q := url.Values{"page": {strconv.Itoa(page)}, "limit": {strconv.Itoa(limits.FeastRESTPageSize)}}
		if perProject {
			q.Set("project", r.project)
		}
		var body map[string]json.RawMessage
		if err := r.get(ctx, route, q, &body); err != nil {
			return err
		}
		var items []json.RawMessage
		if raw, ok := body[key]; ok && string(raw) != "null" {
			if err := json.Unmarshal(raw, &items); err != nil {
				return fmt.Errorf("GET /%s: %q is not a list", route, key)
			}
		}
		all = append(all, items...)
		if len(all) > limits.MaxFeastObjects {
			return fmt.Errorf("GET /%s: more than %d %s", route, limits.MaxFeastObjects, key)
		}
		var pg restPagination
		if raw, ok := body["pagination"]; ok {
			_ = json.Unmarshal(raw, &pg) // an unreadable pagination is a last page
		}
		if !pg.HasNext || len(items) == 0 {
			break
		}
		if page >= maxPages {
			return fmt.Errorf("GET /%s: more than %d pages", route, maxPages)
		}
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("GET /%s: unexpected %s: %v", route, key, err)
	}
	return nil
}

// get sends one GET and decodes its JSON answer.
func (r *restRegistry) get(ctx context.Context, route string, q url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.base+"/"+route+"?"+q.Encode(), nil)
	if err != nil {
		return errors.New("cannot build the request")
	}
	req.Header.Set("Accept", "application/json")
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("GET /%s: %w", route, upstream.Classify(ctx, err))
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("GET /%s: %s", route, upstream.StatusText(resp.StatusCode))
		if ex := r.client.Redactor.BodyExcerpt(resp.Body); ex != "" {
			msg += ": " + ex
		}
		switch resp.StatusCode {
		case http.StatusUnauthorized, http.StatusForbidden:
			msg += " (check feastRegistryToken)"
		case http.StatusNotFound:
			msg += " (is feast.registry.url a Feast REST registry server, v0.50.0 or later, started with --rest-api?)"
		}
		return r.client.Redactor.Error(errors.New(msg))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if upstream.IsTransport(err) {
			return fmt.Errorf("GET /%s: %w", route, upstream.Classify(ctx, err))
		}
		return fmt.Errorf("GET /%s: the answer is not JSON", route)
	}
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func (t restTimestamp) time(where string) (time.Time, error) {
	if t == "" {
		return time.Time{}, nil
	}
	v, err := time.Parse(time.RFC3339Nano, string(t))
	if err != nil {
		return time.Time{}, corrupt(where, "not an RFC 3339 timestamp")
	}
	return v.UTC(), nil
}

// duration parses protobuf's JSON Duration: decimal seconds with an "s" suffix.
func (d restDuration) duration(where string) (time.Duration, error) {
	if d == "" {
		return 0, nil
	}
	s, ok := strings.CutSuffix(string(d), "s")
	if !ok {
		return 0, corrupt(where, "not a protobuf JSON duration")
	}
	sec, frac, _ := strings.Cut(s, ".")
	n, err := strconv.ParseInt(sec, 10, 64)
	if err != nil || n < 0 || n > int64(time.Duration(1<<63-1)/time.Second)-1 || len(frac) > 9 {
		return 0, corrupt(where, "duration out of range")
	}
	out := time.Duration(n) * time.Second
	if frac != "" {
		f, err := strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 32)
		if err != nil {
			return 0, corrupt(where, "not a protobuf JSON duration")
		}
		out += time.Duration(f)
	}
	return out, nil
}

// valueTypeJSON reads a ValueType enum as MessageToDict writes it (its name), or as a number.
func valueTypeJSON(raw json.RawMessage, where string) (ValueType, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return ValueInvalid, nil
	}
	var name string
	if json.Unmarshal(raw, &name) == nil {
		for v, n := range valueTypeNames {
			if n == name {
				return v, nil
			}
		}
		return ValueInvalid, corrupt(where, "unknown value type %q", upstream.Printable(name, limits.QuotedNameRunes))
	}
	var n int32
	if json.Unmarshal(raw, &n) == nil {
		return ValueType(n), nil
	}
	return ValueInvalid, corrupt(where, "not a value type")
}

func restFields(in []restField, where string) ([]Field, error) {
	if len(in) > limits.MaxFeastFields {
		return nil, corrupt(where, "more than %d fields", limits.MaxFeastFields)
	}
	out := make([]Field, 0, len(in))
	for i, f := range in {
		vt, err := valueTypeJSON(f.ValueType, fmt.Sprintf("%s[%d].valueType", where, i))
		if err != nil {
			return nil, err
		}
		out = append(out, Field{Name: f.Name, ValueType: vt})
	}
	return out, nil
}

func (s *restDataSource) model(where string) (DataSource, error) {
	d := DataSource{Name: s.Name, Project: s.Project, TimestampField: s.TimestampField,
		CreatedTimestampColumn: s.CreatedTimestampColumn, Class: s.Class, FieldMapping: s.FieldMapping, Type: "INVALID"}
	if len(s.Type) > 0 {
		var name string
		var n int32
		switch {
		case json.Unmarshal(s.Type, &name) == nil:
			d.Type = name
		case json.Unmarshal(s.Type, &n) == nil:
			d.Type = sourceTypeName(n)
		default:
			return d, corrupt(where+".type", "not a source type")
		}
	}
	if len(d.FieldMapping) > limits.MaxFeastFields {
		return d, corrupt(where+".fieldMapping", "more than %d entries", limits.MaxFeastFields)
	}
	for _, o := range []*restOptions{s.BigqueryOptions, s.RedshiftOptions, s.SnowflakeOptions, s.TrinoOptions, s.AthenaOptions, s.SparkOptions} {
		if o != nil {
			d.Table, d.Query, d.Path = o.Table, o.Query, o.Path
		}
	}
	if s.FileOptions != nil {
		d.Path = s.FileOptions.URI
	}
	if s.CustomOptions != nil && s.CustomOptions.Configuration != "" {
		b, err := base64.StdEncoding.DecodeString(s.CustomOptions.Configuration)
		if err != nil {
			return d, corrupt(where+".customOptions.configuration", "not base64")
		}
		d.Table, d.Query = customTableQuery(string(b))
	}
	return d, nil
}

func (v *restFeatureView) model(where, project string) (FeatureView, error) {
	s := v.Spec
	out := FeatureView{Name: s.Name, Project: orDefault(s.Project, project), Entities: s.Entities, Online: s.Online, Owner: s.Owner, Tags: s.Tags}
	if len(s.Entities) > limits.MaxFeastFields || len(s.Tags) > limits.MaxFeastFields {
		return out, corrupt(where, "more than %d entities or tags", limits.MaxFeastFields)
	}
	var err error
	if out.Features, err = restFields(s.Features, where+".spec.features"); err != nil {
		return out, err
	}
	if len(s.EntityColumns) > 0 {
		if out.EntityColumns, err = restFields(s.EntityColumns, where+".spec.entityColumns"); err != nil {
			return out, err
		}
	}
	if out.TTL, err = s.TTL.duration(where + ".spec.ttl"); err != nil {
		return out, err
	}
	if s.BatchSource != nil {
		if out.BatchSource, err = s.BatchSource.model(where + ".spec.batchSource"); err != nil {
			return out, err
		}
	}
	if out.Created, err = v.Meta.Created.time(where + ".meta.createdTimestamp"); err != nil {
		return out, err
	}
	if out.LastUpdated, err = v.Meta.LastUpdated.time(where + ".meta.lastUpdatedTimestamp"); err != nil {
		return out, err
	}
	if len(v.Meta.Materialized) > limits.MaxFeastIntervals {
		return out, corrupt(where, "more than %d materialization intervals", limits.MaxFeastIntervals)
	}
	for i, iv := range v.Meta.Materialized {
		w := fmt.Sprintf("%s.meta.materializationIntervals[%d]", where, i)
		start, err := iv.Start.time(w + ".startTime")
		if err != nil {
			return out, err
		}
		end, err := iv.End.time(w + ".endTime")
		if err != nil {
			return out, err
		}
		out.MaterializationIntervals = append(out.MaterializationIntervals, Interval{Start: start, End: end})
	}
	return out, nil
}
