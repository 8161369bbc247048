package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
)

func TestParseFlags(t *testing.T) {
	c, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if c.listen != "127.0.0.1:8090" || c.seed != demo.DefaultSeed || c.rate != 1 || c.backfill != 24*time.Hour || c.tick != time.Second {
		t.Errorf("defaults: %+v", c)
	}
	c, err = parseFlags([]string{"-listen", ":9000", "-seed", "7", "-rate", "2.5", "-backfill", "2h", "-tick", "250ms"}, io.Discard)
	if err != nil || c.listen != ":9000" || c.seed != 7 || c.rate != 2.5 || c.backfill != 2*time.Hour || c.tick != 250*time.Millisecond {
		t.Errorf("flags: %+v, %v", c, err)
	}
	for _, args := range [][]string{{"-backfill", "0s"}, {"-tick", "-1s"}, {"-rate", "x"}, {"extra"}, {"-nope"}} {
		if _, err := parseFlags(args, io.Discard); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}

// TestRun starts the server on a free port, checks the three APIs answer, and shuts it down
// through the context as SIGINT/SIGTERM would.
func TestRun(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, config{listen: "127.0.0.1:0", seed: demo.DefaultSeed, rate: 1, backfill: time.Hour, tick: 20 * time.Millisecond}, logger, ready)
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("run: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	base := "http://" + addr
	resp, err := http.Get(base + "/api/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var models struct {
		Models []json.RawMessage `json:"models"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&models); err != nil || len(models.Models) != 3 {
		t.Errorf("models: %v, %d", err, len(models.Models))
	}
	resp.Body.Close()
	for _, p := range []string{"/v2/health/live", "/metrics"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	// The live loop runs: records appear in /metrics within a few ticks.
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(base + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if strings.Contains(string(body), `ml_prediction_latency_seconds_count{model_name="fraud-detector",model_version="v1"} `) &&
			!strings.Contains(string(body), `ml_prediction_latency_seconds_count{model_name="fraud-detector",model_version="v1"} 0`+"\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no traffic in /metrics")
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run returned %v after shutdown", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("no graceful shutdown")
	}
	for _, want := range []string{"demo model server listening", "predictionLog=" + base + "/api/v1", "oip=" + base + "/v2", "metrics=" + base + "/metrics", "shutting down"} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if err := run(context.Background(), config{listen: "127.0.0.1:0", rate: 0, backfill: time.Hour, tick: time.Second}, logger, nil); err == nil {
		t.Error("rate 0 accepted")
	}
	if err := run(context.Background(), config{listen: "256.0.0.1:1", rate: 1, backfill: time.Hour, tick: time.Second}, logger, nil); err == nil {
		t.Error("a bad listen address accepted")
	}
}
