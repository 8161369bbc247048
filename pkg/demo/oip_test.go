package demo

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, u, body string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// outageTime is a time inside the churn-classifier outage.
func outageTime() time.Time { return day0.Add(Outages[0].Start + time.Minute) }

func TestOIPHealthAndMetadata(t *testing.T) {
	_, hs, clock := newTestServer(t, at(12, 0))
	resp, body := get(t, hs.URL+"/v2/health/live")
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"live":true}` {
		t.Errorf("live: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, hs.URL+"/v2/health/ready")
	if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"ready":true}` {
		t.Errorf("ready: %d %s", resp.StatusCode, body)
	}
	resp, body = get(t, hs.URL+"/v2")
	var meta struct {
		Name       string   `json:"name"`
		Version    string   `json:"version"`
		Extensions []string `json:"extensions"`
	}
	if err := json.Unmarshal(body, &meta); err != nil || resp.StatusCode != 200 || meta.Name != ServerName || meta.Version != ServerVersion || len(meta.Extensions) != 1 {
		t.Errorf("server metadata: %d %s", resp.StatusCode, body)
	}
	_, body = get(t, hs.URL+"/v2/models")
	if strings.TrimSpace(string(body)) != `{"models":["fraud-detector","churn-classifier","price-regressor"]}` {
		t.Errorf("model list: %s", body)
	}

	resp, body = get(t, hs.URL+"/v2/models/fraud-detector")
	var mm oipModelMeta
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&mm); err != nil || resp.StatusCode != 200 {
		t.Fatalf("model metadata: %d %s %v", resp.StatusCode, body, err)
	}
	if mm.Name != "fraud-detector" || strings.Join(mm.Versions, ",") != "v1,v2" || mm.Platform != OIPPlatform || len(mm.Inputs) != 7 || len(mm.Outputs) != 2 {
		t.Errorf("model metadata: %+v", mm)
	}
	if in := mm.Inputs[0]; in.Name != "amount" || in.Datatype != "FP64" || len(in.Shape) != 1 || in.Shape[0] != -1 {
		t.Errorf("input 0: %+v", in)
	}
	if in := mm.Inputs[4]; in.Name != "merchant_category" || in.Datatype != "BYTES" {
		t.Errorf("input 4: %+v", in)
	}
	if o := mm.Outputs; o[0].Name != "prediction" || o[0].Datatype != "BYTES" || o[1].Name != "score" || o[1].Datatype != "FP64" {
		t.Errorf("outputs: %+v", o)
	}
	_, body = get(t, hs.URL+"/v2/models/price-regressor/versions/v1")
	if err := json.Unmarshal(body, &mm); err != nil || strings.Join(mm.Versions, ",") != "v1" || len(mm.Outputs) != 1 || mm.Outputs[0].Datatype != "FP64" {
		t.Errorf("version metadata: %s", body)
	}
	resp, body = get(t, hs.URL+"/v2/models/nope")
	wantError(t, "metadata of an unknown model", resp, body, 404, "unknown model")
	resp, body = get(t, hs.URL+"/v2/models/fraud-detector/versions/v3")
	wantError(t, "metadata of an unknown version", resp, body, 404, `no version "v3"`)

	// Readiness follows Fleet.Ready.
	for _, p := range []string{"/v2/models/churn-classifier/ready", "/v2/models/churn-classifier/versions/v3/ready"} {
		resp, body = get(t, hs.URL+p)
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != `{"name":"churn-classifier","ready":true}` {
			t.Errorf("%s: %d %s", p, resp.StatusCode, body)
		}
	}
	clock.Set(outageTime())
	resp, body = get(t, hs.URL+"/v2/models/churn-classifier/ready")
	wantError(t, "model ready during an outage", resp, body, 503, "not ready")
	resp, body = get(t, hs.URL+"/v2/health/ready")
	wantError(t, "server ready during an outage", resp, body, 503, "churn-classifier")
	resp, _ = get(t, hs.URL+"/v2/models/fraud-detector/ready")
	if resp.StatusCode != 200 {
		t.Errorf("fraud-detector not ready during the churn outage: %d", resp.StatusCode)
	}
	resp, body = get(t, hs.URL+"/v2/models/nope/ready")
	wantError(t, "ready of an unknown model", resp, body, 404, "unknown model")
	resp, body = get(t, hs.URL+"/v2/models/fraud-detector/versions/v0/ready")
	wantError(t, "ready of an unknown version", resp, body, 404, "v0")
}

func TestOIPRepositoryIndex(t *testing.T) {
	_, hs, clock := newTestServer(t, at(12, 0))
	index := func(body string) []oipIndexEntry {
		t.Helper()
		resp, b := post(t, hs.URL+"/v2/repository/index", body)
		if resp.StatusCode != 200 {
			t.Fatalf("index %q: %d %s", body, resp.StatusCode, b)
		}
		var out []oipIndexEntry
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	all := index("")
	if len(all) != 4 {
		t.Fatalf("index has %d entries, want 4 (model versions): %+v", len(all), all)
	}
	for _, e := range all {
		if e.State != "READY" || e.Reason != "" {
			t.Errorf("entry %+v", e)
		}
	}
	clock.Set(outageTime())
	states := map[string]string{}
	for _, e := range index(`{}`) {
		states[e.Name+"/"+e.Version] = e.State
	}
	if states["churn-classifier/v3"] != "UNAVAILABLE" || states["fraud-detector/v2"] != "READY" {
		t.Errorf("states during the outage: %v", states)
	}
	if got := index(`{"ready": true}`); len(got) != 3 {
		t.Errorf("ready filter: %+v", got)
	}
	if got := index(`{"ready": false}`); len(got) != 1 || got[0].Name != "churn-classifier" {
		t.Errorf("not-ready filter: %+v", got)
	}
	resp, body := post(t, hs.URL+"/v2/repository/index", `{"ready": "yes"}`)
	wantError(t, "index with a bad body", resp, body, 400, "invalid index request")
	resp, body = get(t, hs.URL+"/v2/repository/index")
	wantError(t, "GET index", resp, body, 405, "not allowed")
}

type inferResponse struct {
	ModelName    string `json:"model_name"`
	ModelVersion string `json:"model_version"`
	ID           string `json:"id"`
	Outputs      []struct {
		Name     string  `json:"name"`
		Datatype string  `json:"datatype"`
		Shape    []int64 `json:"shape"`
		Data     []any   `json:"data"`
	} `json:"outputs"`
}

func infer(t *testing.T, u string, req any) (int, inferResponse, []byte) {
	t.Helper()
	b, _ := json.Marshal(req)
	resp, body := post(t, u, string(b))
	var out inferResponse
	if resp.StatusCode == 200 {
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			t.Fatalf("infer response %s: %v", body, err)
		}
	}
	return resp.StatusCode, out, body
}

// TestOIPInferRoundTrip sends real records' features through both request shapes and checks that
// the server's outputs are the predictions and scores stored in the records.
func TestOIPInferRoundTrip(t *testing.T) {
	_, hs, _ := newTestServer(t, at(12, 0))
	f := NewFleet(DefaultSeed)
	for _, m := range specs {
		var recs []Record
		err := f.Each(context.Background(), m.name, m.versions[0], at(10, 0), at(10, 1), func(r Record) error {
			if r.Status == StatusOK && len(recs) < 40 {
				recs = append(recs, r)
			}
			return nil
		})
		if err != nil || len(recs) < 40 {
			t.Fatalf("%s: %d records, %v", m.name, len(recs), err)
		}
		n := int64(len(recs))
		// One input per feature, shape [N] (or [N,1] with nested data for the first feature).
		var inputs []map[string]any
		var tensor []any
		for i, fs := range m.features {
			data := make([]any, n)
			for r, rec := range recs {
				data[r] = rec.Features[fs.name]
			}
			in := map[string]any{"name": fs.name, "datatype": datatypeOf(fs.kind), "shape": []int64{n}, "data": data}
			if i == 0 {
				nested := make([]any, n)
				for r := range data {
					nested[r] = []any{data[r]}
				}
				in["shape"], in["data"] = []int64{n, 1}, nested
			}
			inputs = append(inputs, in)
		}
		for _, rec := range recs {
			for _, fs := range m.features {
				tensor = append(tensor, rec.Features[fs.name])
			}
		}
		k := int64(len(m.features))
		requests := map[string]any{
			"per feature": map[string]any{"id": "req-1", "inputs": inputs},
			"tensor":      map[string]any{"id": "req-1", "inputs": []any{map[string]any{"name": "input-0", "datatype": "BYTES", "shape": []int64{n, k}, "data": tensor}}},
		}
		for name, req := range requests {
			status, out, body := infer(t, hs.URL+"/v2/models/"+m.name+"/versions/"+m.versions[0]+"/infer", req)
			if status != 200 {
				t.Fatalf("%s %s: %d %s", m.name, name, status, body)
			}
			if out.ModelName != m.name || out.ModelVersion != m.versions[0] || out.ID != "req-1" {
				t.Errorf("%s %s: header %+v", m.name, name, out)
			}
			wantOutputs := 1
			if m.hasScore {
				wantOutputs = 2
			}
			if len(out.Outputs) != wantOutputs {
				t.Fatalf("%s %s: %d outputs", m.name, name, len(out.Outputs))
			}
			for _, o := range out.Outputs {
				if len(o.Shape) != 1 || o.Shape[0] != n || int64(len(o.Data)) != n {
					t.Fatalf("%s %s: output %s shape %v with %d values", m.name, name, o.Name, o.Shape, len(o.Data))
				}
				for r, rec := range recs {
					want := rec.Prediction
					if o.Name == "score" {
						want = *rec.Score
					}
					if o.Data[r] != want {
						t.Fatalf("%s %s row %d: %s = %v, the record has %v", m.name, name, r, o.Name, o.Data[r], want)
					}
				}
			}
		}
	}
}

func TestOIPInferOptions(t *testing.T) {
	s, hs, clock := newTestServer(t, at(12, 0))
	u := hs.URL + "/v2/models/fraud-detector/infer"
	// A single row as a [k] tensor with named columns; the default version is the latest.
	req := map[string]any{
		"inputs":     []any{map[string]any{"name": "x", "datatype": "BYTES", "shape": []int64{3}, "data": []any{5000, "gaming", "web"}}},
		"parameters": map[string]any{"feature_names": []string{"amount", "merchant_category", "channel"}},
		"outputs":    []any{map[string]any{"name": "score"}},
	}
	status, out, body := infer(t, u, req)
	if status != 200 || out.ModelVersion != "v2" || len(out.Outputs) != 1 || out.Outputs[0].Name != "score" {
		t.Fatalf("named tensor: %d %s", status, body)
	}
	_, want, _ := s.fleet.Infer("fraud-detector", "v2", map[string]any{"amount": 5000.0, "merchant_category": "gaming", "channel": "web"})
	if out.Outputs[0].Data[0] != *want {
		t.Errorf("score %v, want %v", out.Outputs[0].Data[0], *want)
	}
	// A numeric-only tensor may use a numeric datatype.
	req = map[string]any{"inputs": []any{map[string]any{"name": "x", "datatype": "FP32", "shape": []int64{2, 2}, "data": [][]float64{{10, 1}, {20, 2}},
		"parameters": map[string]any{"feature_names": []string{"amount", "txn_count_24h"}}}}}
	if status, out, body := infer(t, u, req); status != 200 || len(out.Outputs[0].Data) != 2 {
		t.Errorf("numeric tensor: %d %s", status, body)
	}

	bad := []struct {
		name, url, body string
		status          int
		msg             string
	}{
		{"invalid JSON", u, `{"inputs":`, 400, "invalid inference request"},
		{"no inputs", u, `{"inputs":[]}`, 400, "no inputs"},
		{"unknown datatype", u, `{"inputs":[{"name":"amount","datatype":"FLOAT","shape":[1],"data":[1]}]}`, 400, "unknown datatype"},
		{"shape mismatch", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[3],"data":[1,2]}]}`, 400, "holds 3 elements but data has 2"},
		{"negative shape", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[-1],"data":[1]}]}`, 400, "negative dimension"},
		{"missing shape", u, `{"inputs":[{"name":"amount","datatype":"FP64","data":[1]}]}`, 400, "missing shape"},
		{"rows differ", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[2],"data":[1,2]},{"name":"channel","datatype":"BYTES","shape":[1],"data":["web"]}]}`, 400, "rows"},
		{"categorical as FP64", u, `{"inputs":[{"name":"channel","datatype":"FP64","shape":[1],"data":[1]}]}`, 400, "want datatype BYTES"},
		{"numeric as BYTES", u, `{"inputs":[{"name":"amount","datatype":"BYTES","shape":[1],"data":["1"]}]}`, 400, "want a numeric datatype"},
		{"string in numeric", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[1],"data":["ten"]}]}`, 400, "want a number"},
		{"boolean element", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[1],"data":[true]}]}`, 400, "boolean"},
		{"duplicate input", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[1],"data":[1]},{"name":"amount","datatype":"FP64","shape":[1],"data":[2]}]}`, 400, "twice"},
		{"feature input of rank 2", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[1,2],"data":[1,2]}]}`, 400, "[N] or [N,1]"},
		{"unknown inputs", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[1],"data":[1]},{"name":"colour","datatype":"BYTES","shape":[1],"data":["red"]}]}`, 400, "unknown inputs colour"},
		{"tensor width", u, `{"inputs":[{"name":"x","datatype":"BYTES","shape":[1,3],"data":[1,2,3]}]}`, 400, "does not match 7 features"},
		{"tensor feature names", u, `{"inputs":[{"name":"x","datatype":"BYTES","shape":[1],"data":[1]}],"parameters":{"feature_names":["colour"]}}`, 400, `no feature "colour"`},
		{"tensor feature names type", u, `{"inputs":[{"name":"x","datatype":"BYTES","shape":[1],"data":[1]}],"parameters":{"feature_names":"amount"}}`, 400, "list of feature names"},
		{"tensor numeric with categorical", u, `{"inputs":[{"name":"x","datatype":"FP64","shape":[1],"data":[1],"parameters":{"feature_names":["channel"]}}]}`, 400, "want datatype BYTES"},
		{"unknown output", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[1],"data":[1]}],"outputs":[{"name":"probabilities"}]}`, 400, `no output "probabilities"`},
		{"score of a regressor", hs.URL + "/v2/models/price-regressor/infer", `{"inputs":[{"name":"sqft","datatype":"FP64","shape":[1],"data":[1]}],"outputs":[{"name":"score"}]}`, 400, `no output "score"`},
		{"too many rows", u, `{"inputs":[{"name":"amount","datatype":"FP64","shape":[100000000],"data":[]}]}`, 400, "too large"},
		{"unknown model", hs.URL + "/v2/models/nope/infer", `{}`, 404, "unknown model"},
		{"unknown version", hs.URL + "/v2/models/fraud-detector/versions/v7/infer", `{}`, 404, "v7"},
	}
	for _, c := range bad {
		resp, body := post(t, c.url, c.body)
		wantError(t, c.name, resp, body, c.status, c.msg)
	}
	huge := `{"inputs":[{"name":"amount","datatype":"FP64","shape":[1],"data":[` + strings.Repeat("1,", maxInferBody/2) + `1]}]}`
	resp, body := post(t, u, huge)
	wantError(t, "oversized body", resp, body, http.StatusRequestEntityTooLarge, "larger than")

	clock.Set(outageTime())
	resp, body = post(t, hs.URL+"/v2/models/churn-classifier/infer", `{"inputs":[{"name":"plan","datatype":"BYTES","shape":[1],"data":["basic"]}]}`)
	wantError(t, "infer during an outage", resp, body, 503, "not ready")
}
