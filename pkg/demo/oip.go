package demo

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/modellens/mlmonitoring-datasource/pkg/source"
)

// The Open Inference Protocol v2 (KServe "V2" REST) routes of the demo model server. Bodies follow
// KServe's Python model server: {"live":true}, {"ready":true}, {"name":m,"ready":true}; errors are
// {"error": "<message>"} with 400 (bad request), 404 (unknown model or version) or 503 (not ready).

// OIPPlatform is the platform the model metadata reports.
const OIPPlatform = "modellens-demo"

// OIP tensor metadata.
type oipTensorMeta struct {
	Name     string  `json:"name"`
	Datatype string  `json:"datatype"`
	Shape    []int64 `json:"shape"`
}

type oipModelMeta struct {
	Name     string          `json:"name"`
	Versions []string        `json:"versions"`
	Platform string          `json:"platform"`
	Inputs   []oipTensorMeta `json:"inputs"`
	Outputs  []oipTensorMeta `json:"outputs"`
}

// oipTensor is an input or output tensor of an inference request or response.
type oipTensor struct {
	Name       string         `json:"name"`
	Shape      []int64        `json:"shape"`
	Datatype   string         `json:"datatype"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Data       any            `json:"data"`
}

type oipInferRequest struct {
	ID         string         `json:"id,omitempty"`
	Parameters map[string]any `json:"parameters,omitempty"`
	Inputs     []oipTensor    `json:"inputs"`
	Outputs    []struct {
		Name string `json:"name"`
	} `json:"outputs,omitempty"`
}

type oipInferResponse struct {
	ModelName    string      `json:"model_name"`
	ModelVersion string      `json:"model_version"`
	ID           string      `json:"id,omitempty"`
	Outputs      []oipTensor `json:"outputs"`
}

type oipIndexEntry struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	State   string `json:"state"`
	Reason  string `json:"reason"`
}

func (s *Server) routeOIP() {
	s.mux.HandleFunc("GET /v2/health/live", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"live": true})
	})
	s.mux.HandleFunc("GET /v2/health/ready", s.handleServerReady)
	s.mux.HandleFunc("GET /v2", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"name": ServerName, "version": ServerVersion, "extensions": []string{"model_repository"}})
	})
	s.mux.HandleFunc("GET /v2/models", func(w http.ResponseWriter, _ *http.Request) {
		names := make([]string, len(specs))
		for i, m := range specs {
			names[i] = m.name
		}
		writeJSON(w, http.StatusOK, map[string][]string{"models": names})
	})
	s.mux.HandleFunc("GET /v2/models/{model}", s.handleModelMeta)
	s.mux.HandleFunc("GET /v2/models/{model}/versions/{version}", s.handleModelMeta)
	s.mux.HandleFunc("GET /v2/models/{model}/ready", s.handleModelReady)
	s.mux.HandleFunc("GET /v2/models/{model}/versions/{version}/ready", s.handleModelReady)
	s.mux.HandleFunc("POST /v2/models/{model}/infer", s.handleInfer)
	s.mux.HandleFunc("POST /v2/models/{model}/versions/{version}/infer", s.handleInfer)
	s.mux.HandleFunc("POST /v2/repository/index", s.handleIndexRepo)
}

func (s *Server) handleServerReady(w http.ResponseWriter, _ *http.Request) {
	now := s.opts.Clock()
	var down []string
	for _, m := range specs {
		if !s.fleet.Ready(m.name, now) {
			down = append(down, m.name)
		}
	}
	if len(down) > 0 {
		writeError(w, http.StatusServiceUnavailable, "server is not ready: not ready: "+strings.Join(down, ", "))
		return
	}
	writeJSON(w, http.StatusOK, map[string]bool{"ready": true})
}

// pathModel resolves {model} and {version} path values, writing a 404 when unknown.
func (s *Server) pathModel(w http.ResponseWriter, r *http.Request) (*modelSpec, int32, bool) {
	m, v, err := s.fleet.lookup(r.PathValue("model"), r.PathValue("version"))
	if err != nil {
		writeError(w, http.StatusNotFound, err.Error())
		return nil, -1, false
	}
	return m, v, true
}

func oipMeta(m *modelSpec, v int32) oipModelMeta {
	meta := oipModelMeta{Name: m.name, Versions: append([]string(nil), m.versions...), Platform: OIPPlatform}
	if v >= 0 {
		meta.Versions = []string{m.versions[v]}
	}
	for _, fs := range m.features {
		meta.Inputs = append(meta.Inputs, oipTensorMeta{Name: fs.name, Datatype: datatypeOf(fs.kind), Shape: []int64{-1}})
	}
	meta.Outputs = append(meta.Outputs, oipTensorMeta{Name: "prediction", Datatype: datatypeOf(m.predKind), Shape: []int64{-1}})
	if m.hasScore {
		meta.Outputs = append(meta.Outputs, oipTensorMeta{Name: "score", Datatype: "FP64", Shape: []int64{-1}})
	}
	return meta
}

func datatypeOf(k source.Kind) string {
	if k == source.Categorical {
		return "BYTES"
	}
	return "FP64"
}

func (s *Server) handleModelMeta(w http.ResponseWriter, r *http.Request) {
	m, v, ok := s.pathModel(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, oipMeta(m, v))
}

func (s *Server) handleModelReady(w http.ResponseWriter, r *http.Request) {
	m, _, ok := s.pathModel(w, r)
	if !ok {
		return
	}
	if !s.fleet.Ready(m.name, s.opts.Clock()) {
		writeError(w, http.StatusServiceUnavailable, fmt.Sprintf("model %s is not ready", m.name))
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"name": m.name, "ready": true})
}

func (s *Server) handleIndexRepo(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Ready *bool `json:"ready"`
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil {
		writeError(w, http.StatusBadRequest, "reading the request body: "+err.Error())
		return
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := json.Unmarshal(data, &body); err != nil {
			writeError(w, http.StatusBadRequest, "invalid index request: want {\"ready\": true|false}: "+err.Error())
			return
		}
	}
	now := s.opts.Clock()
	out := []oipIndexEntry{}
	for _, m := range specs {
		ready := s.fleet.Ready(m.name, now)
		for _, v := range m.versions {
			e := oipIndexEntry{Name: m.name, Version: v, State: "READY"}
			if !ready {
				e.State, e.Reason = "UNAVAILABLE", "outage"
			}
			if body.Ready != nil && *body.Ready != ready {
				continue
			}
			out = append(out, e)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// handleInfer runs the toy model. Two request shapes are accepted:
//
//   - one input per feature, named after the feature, shape [N] or [N,1]; numeric features with a
//     numeric datatype (FP64, FP32, INT64, ...), categorical ones with BYTES; absent features are
//     missing values;
//   - a single input tensor of shape [N,k] (or [k] for one row) whose columns are features: the
//     names in parameters.feature_names (of the input or of the request), else all the model's
//     features in metadata order; its datatype is BYTES when it holds a categorical column.
//
// JSON null elements are missing values. The response has the outputs "prediction" (BYTES class
// names or FP64) and, for classifiers, "score" (FP64, the probability of the predicted class), each
// of shape [N]; "outputs" in the request selects among them.
func (s *Server) handleInfer(w http.ResponseWriter, r *http.Request) {
	m, v, ok := s.pathModel(w, r)
	if !ok {
		return
	}
	if v < 0 {
		v = index32(len(m.versions) - 1)
	}
	resp, status, err := s.infer(m, v, w, r)
	counter := s.met.infer.WithLabelValues(m.name, m.versions[v], StatusOK)
	if err != nil {
		counter = s.met.infer.WithLabelValues(m.name, m.versions[v], StatusError)
		counter.Inc()
		writeError(w, status, err.Error())
		return
	}
	counter.Inc()
	writeJSON(w, http.StatusOK, resp)
}

func (s *Server) infer(m *modelSpec, v int32, w http.ResponseWriter, r *http.Request) (*oipInferResponse, int, error) {
	if !s.fleet.Ready(m.name, s.opts.Clock()) {
		return nil, http.StatusServiceUnavailable, fmt.Errorf("model %s is not ready", m.name)
	}
	var req oipInferRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxInferBody))
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("inference request larger than %d bytes", maxInferBody)
		}
		return nil, http.StatusBadRequest, fmt.Errorf("invalid inference request: %v", err)
	}
	rows, err := inferRows(m, &req)
	if err != nil {
		return nil, http.StatusBadRequest, err
	}
	want := map[string]bool{}
	for _, o := range req.Outputs {
		if o.Name != "prediction" && (o.Name != "score" || !m.hasScore) {
			return nil, http.StatusBadRequest, fmt.Errorf("model %s has no output %q (outputs: %s)", m.name, o.Name, strings.Join(outputNames(m), ", "))
		}
		want[o.Name] = true
	}
	n := int64(len(rows))
	preds := make([]any, len(rows))
	scores := make([]any, len(rows))
	for i, features := range rows {
		p, sc, err := s.fleet.Infer(m.name, m.versions[v], features)
		if err != nil {
			return nil, http.StatusBadRequest, fmt.Errorf("row %d: %v", i, err)
		}
		preds[i] = p
		if sc != nil {
			scores[i] = *sc
		}
	}
	resp := &oipInferResponse{ModelName: m.name, ModelVersion: m.versions[v], ID: req.ID}
	if len(want) == 0 || want["prediction"] {
		resp.Outputs = append(resp.Outputs, oipTensor{Name: "prediction", Datatype: datatypeOf(m.predKind), Shape: []int64{n}, Data: preds})
	}
	if m.hasScore && (len(want) == 0 || want["score"]) {
		resp.Outputs = append(resp.Outputs, oipTensor{Name: "score", Datatype: "FP64", Shape: []int64{n}, Data: scores})
	}
	return resp, http.StatusOK, nil
}

func outputNames(m *modelSpec) []string {
	if m.hasScore {
		return []string{"prediction", "score"}
	}
	return []string{"prediction"}
}

var oipDatatypes = map[string]bool{
	"BOOL": true, "UINT8": true, "UINT16": true, "UINT32": true, "UINT64": true, "INT8": true, "INT16": true,
	"INT32": true, "INT64": true, "FP16": true, "FP32": true, "FP64": true, "BYTES": true,
}

// maxInferRows bounds the batch size of one inference request.
const maxInferRows = 10000

// inferRows turns the request's tensors into one feature map per row.
func inferRows(m *modelSpec, req *oipInferRequest) ([]map[string]any, error) {
	if len(req.Inputs) == 0 {
		return nil, fmt.Errorf("inference request has no inputs (want one input per feature: %s)", strings.Join(m.featureNames(), ", "))
	}
	flat := make([][]any, len(req.Inputs))
	for i := range req.Inputs {
		in := &req.Inputs[i]
		if !oipDatatypes[in.Datatype] {
			return nil, fmt.Errorf("input %q: unknown datatype %q", in.Name, in.Datatype)
		}
		size := int64(1)
		for _, d := range in.Shape {
			if d < 0 {
				return nil, fmt.Errorf("input %q: negative dimension in shape %v", in.Name, in.Shape)
			}
			size *= d
			if size > maxInferRows*int64(len(m.features)) {
				return nil, fmt.Errorf("input %q: shape %v is too large (at most %d rows)", in.Name, in.Shape, maxInferRows)
			}
		}
		if len(in.Shape) == 0 {
			return nil, fmt.Errorf("input %q: missing shape", in.Name)
		}
		vals, err := flatten(in.Data, nil)
		if err != nil {
			return nil, fmt.Errorf("input %q: %v", in.Name, err)
		}
		if int64(len(vals)) != size {
			return nil, fmt.Errorf("input %q: shape %v holds %d elements but data has %d", in.Name, in.Shape, size, len(vals))
		}
		flat[i] = vals
	}

	perFeature := true
	for _, in := range req.Inputs {
		if m.featureIndex(in.Name) < 0 {
			perFeature = false
		}
	}
	if perFeature {
		n := -1
		for i, in := range req.Inputs {
			rows := len(flat[i])
			if len(in.Shape) > 2 || (len(in.Shape) == 2 && in.Shape[1] != 1) {
				return nil, fmt.Errorf("input %q: shape %v: a feature input has shape [N] or [N,1]", in.Name, in.Shape)
			}
			if n >= 0 && rows != n {
				return nil, fmt.Errorf("input %q has %d rows, other inputs have %d", in.Name, rows, n)
			}
			n = rows
			if err := checkDatatype(m, m.featureIndex(in.Name), in.Datatype); err != nil {
				return nil, err
			}
		}
		seen := map[string]bool{}
		out := make([]map[string]any, n)
		for r := range out {
			out[r] = make(map[string]any, len(req.Inputs))
		}
		for i, in := range req.Inputs {
			if seen[in.Name] {
				return nil, fmt.Errorf("input %q is given twice", in.Name)
			}
			seen[in.Name] = true
			for r, v := range flat[i] {
				out[r][in.Name] = v
			}
		}
		return out, nil
	}
	if len(req.Inputs) > 1 {
		var unknown []string
		for _, in := range req.Inputs {
			if m.featureIndex(in.Name) < 0 {
				unknown = append(unknown, in.Name)
			}
		}
		return nil, fmt.Errorf("unknown inputs %s: name each input after a feature (%s), or send a single [N,k] tensor",
			strings.Join(unknown, ", "), strings.Join(m.featureNames(), ", "))
	}

	// A single [N,k] tensor.
	in := &req.Inputs[0]
	names, err := featureNamesParam(in.Parameters, req.Parameters)
	if err != nil {
		return nil, err
	}
	if names == nil {
		names = m.featureNames()
	}
	for _, n := range names {
		i := m.featureIndex(n)
		if i < 0 {
			return nil, fmt.Errorf("feature_names: model %s has no feature %q (features: %s)", m.name, n, strings.Join(m.featureNames(), ", "))
		}
		if err := checkDatatype(m, i, in.Datatype); err != nil && in.Datatype != "BYTES" {
			return nil, fmt.Errorf("input %q: %v", in.Name, err)
		}
	}
	k := int64(len(names))
	var n int64
	switch {
	case len(in.Shape) == 1 && in.Shape[0] == k:
		n = 1
	case len(in.Shape) == 2 && in.Shape[1] == k:
		n = in.Shape[0]
	default:
		return nil, fmt.Errorf("input %q: shape %v does not match %d features (want [N,%d]: %s)", in.Name, in.Shape, k, k, strings.Join(names, ", "))
	}
	out := make([]map[string]any, n)
	vals := flat[0]
	for r := range out {
		row := make(map[string]any, k)
		for j, name := range names {
			row[name] = vals[int64(r)*k+int64(j)]
		}
		out[r] = row
	}
	return out, nil
}

// checkDatatype checks that a tensor's datatype fits feature i.
func checkDatatype(m *modelSpec, i int, dt string) error {
	fs := m.features[i]
	if fs.kind == source.Categorical && dt != "BYTES" {
		return fmt.Errorf("feature %q is categorical: want datatype BYTES, got %s", fs.name, dt)
	}
	if fs.kind == source.Numeric && (dt == "BYTES" || dt == "BOOL") {
		return fmt.Errorf("feature %q is numeric: want a numeric datatype (FP64, FP32, INT64, ...), got %s", fs.name, dt)
	}
	return nil
}

func featureNamesParam(params ...map[string]any) ([]string, error) {
	for _, p := range params {
		raw, ok := p["feature_names"]
		if !ok {
			continue
		}
		list, ok := raw.([]any)
		if !ok {
			return nil, errors.New("parameters.feature_names must be a list of feature names")
		}
		names := make([]string, len(list))
		for i, x := range list {
			s, ok := x.(string)
			if !ok {
				return nil, errors.New("parameters.feature_names must be a list of feature names")
			}
			names[i] = s
		}
		return names, nil
	}
	return nil, nil
}

// flatten appends the scalars of nested JSON arrays in row-major order.
func flatten(v any, out []any) ([]any, error) {
	switch t := v.(type) {
	case []any:
		for _, x := range t {
			var err error
			if out, err = flatten(x, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	case nil, float64, string:
		return append(out, t), nil
	case bool:
		return nil, fmt.Errorf("boolean element %v: features are numbers or strings", t)
	}
	return nil, fmt.Errorf("unsupported element %v", v)
}
