// Command demo-model is the ModelLens demo model server: the synthetic fleet of package demo served
// over HTTP as a Prediction Log API v1 (under /api/v1), an Open Inference Protocol v2 model server
// (under /v2) and a Prometheus /metrics endpoint whose traffic replays the fleet's records live.
//
// Usage:
//
//	demo-model [-listen 127.0.0.1:8090] [-seed 42] [-rate 1] [-backfill 24h] [-tick 1s]
//
// In a container use -listen :8090. Point a ModelLens data source's predictionLog.url at
// http://host:8090/api/v1, an OIP endpoint at http://host:8090, and Prometheus at /metrics.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/modellens/mlmonitoring-datasource/pkg/demo"
)

type config struct {
	listen   string
	seed     int64
	rate     float64
	backfill time.Duration
	tick     time.Duration
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("demo-model", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.listen, "listen", "127.0.0.1:8090", "address to listen on (use :8090 in a container)")
	fs.Int64Var(&c.seed, "seed", demo.DefaultSeed, "fleet seed (the plugin's built-in demo uses the default)")
	fs.Float64Var(&c.rate, "rate", 1, fmt.Sprintf("traffic multiplier, in (0, %d]", demo.MaxRate))
	fs.DurationVar(&c.backfill, "backfill", demo.DefaultBackfill, "how far back the Prediction Log serves records")
	fs.DurationVar(&c.tick, "tick", time.Second, "period of the live loop that feeds /metrics")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	if c.backfill <= 0 {
		return c, fmt.Errorf("-backfill must be positive, got %s", c.backfill)
	}
	if c.tick <= 0 {
		return c, fmt.Errorf("-tick must be positive, got %s", c.tick)
	}
	return c, nil
}

func main() {
	c, err := parseFlags(os.Args[1:], os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "demo-model:", err)
		os.Exit(2)
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, c, logger, nil); err != nil {
		logger.Error("demo-model failed", "error", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then shuts down gracefully. When ready is not nil it receives the
// bound address once the server listens.
func run(ctx context.Context, c config, logger *slog.Logger, ready chan<- string) error {
	fleet, err := demo.NewFleetWithRate(c.seed, c.rate)
	if err != nil {
		return err
	}
	srv := demo.NewServer(fleet, demo.ServerOptions{Backfill: c.backfill, Logger: logger})
	ln, err := net.Listen("tcp", c.listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	logger.Info("demo model server listening",
		"predictionLog", base+"/api/v1", "oip", base+"/v2", "metrics", base+"/metrics",
		"seed", c.seed, "rate", c.rate, "backfill", c.backfill.String(), "tick", c.tick.String())
	if ready != nil {
		ready <- ln.Addr().String()
	}

	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	loopCtx, stopLoop := context.WithCancel(ctx)
	defer stopLoop()
	loopDone := make(chan struct{})
	go func() {
		defer close(loopDone)
		_ = srv.Run(loopCtx, c.tick)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- hs.Serve(ln) }()

	select {
	case err := <-serveErr:
		stopLoop()
		<-loopDone
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	stopLoop()
	<-loopDone
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdownCtx); err != nil {
		return err
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
