package daemon

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/sdnotify"
)

// Systemd tells systemd how the service is (READY=1 after startup
// recovery, a STATUS= line, the watchdog's heartbeat from the main loop,
// STOPPING=1) and reloads the configuration on SIGHUP.
func (d *Daemon) Systemd(ctx context.Context, cfgPath string) {
	notifyErr := func(err error) {
		if err != nil {
			d.log.Warn().Err(err).Msg("cannot notify systemd")
		}
	}
	d.Ready = func() { notifyErr(sdnotify.Ready(d.StatusLine())) }
	interval, watchdog := sdnotify.WatchdogInterval()
	var lastBeat, lastStatus time.Time
	d.Tick = func() {
		// The heartbeat comes from the main loop itself: a loop that hangs
		// stops it, and systemd restarts the service.
		if watchdog && time.Since(lastBeat) >= interval {
			notifyErr(sdnotify.Watchdog())
			lastBeat = time.Now()
		}
		if time.Since(lastStatus) >= 10*time.Second {
			notifyErr(sdnotify.Status(d.StatusLine()))
			lastStatus = time.Now()
		}
	}
	go func() {
		<-ctx.Done()
		notifyErr(sdnotify.Stopping())
	}()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
			}
			notifyErr(sdnotify.Reloading())
			next, err := config.Load(cfgPath)
			if err == nil {
				err = d.Reload(ctx, next)
			}
			d.Metrics.Reloaded(err == nil)
			if err != nil {
				d.log.Error().Err(err).Msg("configuration not reloaded; the running one stays")
				notifyErr(sdnotify.Ready("configuration reload failed (the running one stays): " + strings.SplitN(err.Error(), "\n", 2)[0] + "; " + d.StatusLine()))
				continue
			}
			notifyErr(sdnotify.Ready(d.StatusLine()))
		}
	}()
}

// ServeHTTP serves health, metrics and the API on a TCP address or a unix
// socket (unix:/path, mode 0660) until ctx ends.
func (d *Daemon) ServeHTTP(ctx context.Context, listen, tokenFile string) error {
	token := ""
	if tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return err
		}
		token = strings.TrimSpace(string(b))
	}
	var ln net.Listener
	var err error
	if p, ok := strings.CutPrefix(listen, "unix:"); ok {
		os.Remove(p) // a socket left by a killed run
		if ln, err = net.Listen("unix", p); err == nil {
			err = os.Chmod(p, 0o660)
		}
	} else {
		ln, err = net.Listen("tcp", listen)
	}
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: d.Handler(token), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Minute, WriteTimeout: 5 * time.Minute}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error().Err(err).Msg("HTTP server stopped")
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	d.log.Info().Str("listen", listen).Bool("api", token != "").Msg("serving /healthz, /readyz, /metrics and /api/v1")
	return nil
}

// ErrCannotGoOn: archivd run stopped because of a failure it logged (the
// HTTP endpoint could not listen, the catalog became unusable): the
// service manager should restart it.
var ErrCannotGoOn = errors.New("archivd run cannot go on")

// Serve is archivd run: it opens the archive as its writer (waiting for a
// command that holds the data directory), talks to systemd, serves HTTP
// when configured and runs the daemon until ctx ends. An error opening
// the archive is returned as it is; a failure after that is logged and
// returned as ErrCannotGoOn. Stopped while starting, it returns nil.
func Serve(ctx context.Context, cfg *config.Config, opts archive.Options) error {
	log := opts.Log
	if len(cfg.Inboxes) == 0 {
		log.Warn().Msg("no inboxes configured: archivd run only does the scheduled work")
	}
	opts.Mode, opts.WaitForCommands = archive.Writer, true
	a, err := archive.Open(ctx, cfg, opts)
	if err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	defer a.Close(context.WithoutCancel(ctx))
	d := New(a, log)
	d.Systemd(ctx, cfg.Path)
	if cfg.HTTP.Listen != "" {
		if err := d.ServeHTTP(ctx, cfg.HTTP.Listen, cfg.HTTP.TokenFile); err != nil {
			log.Error().Err(err).Str("listen", cfg.HTTP.Listen).Msg("cannot serve HTTP")
			return ErrCannotGoOn
		}
	}
	if at := os.Getenv("ARCHIVD_CRASH_AT"); at != "" {
		// Fault injection for the crash tests: die exactly at a step.
		d.Crash = func(step string) {
			if step == at {
				syscall.Kill(os.Getpid(), syscall.SIGKILL)
			}
		}
	}
	if err := d.Run(ctx); err != nil && ctx.Err() == nil {
		log.Error().Err(err).Msg("archivd run stops: it cannot go on")
		return ErrCannotGoOn
	}
	return nil
}
