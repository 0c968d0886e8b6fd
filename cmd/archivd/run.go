package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/archivd/archivd/access"
	"github.com/archivd/archivd/aip"
	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/audit"
	"github.com/archivd/archivd/catalog"
	"github.com/archivd/archivd/config"
	"github.com/archivd/archivd/ingest"
	"github.com/archivd/archivd/ocfl"
	"github.com/archivd/archivd/storage"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "0.1.0-dev"

// Exit codes (sysexits.h), as documented in docs/operations.md.
const (
	exitOK          = 0
	exitFailure     = 1
	exitUsage       = 64
	exitDataErr     = 65 // bad input, or damage found
	exitUnavailable = 69 // storage unavailable
	exitLocked      = 75 // another archivd holds the data directory
	exitConfig      = 78
)

// cli carries the output streams of one invocation.
type cli struct {
	out, errw io.Writer
	log       zerolog.Logger
	again     bool   // ingest --again
	bag       bool   // ingest --bag
	wait      bool   // writers: wait for the data directory's lock
	command   string // the command being run, for the lock file
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	c := &cli{out: stdout, errw: stderr, log: archive.NewLogger(stderr, "info", "console")}
	if len(args) == 0 {
		fmt.Fprint(stderr, usageText())
		return exitUsage
	}
	c.command = args[0]
	for _, a := range args[1:] {
		if a == "-h" || a == "--help" || a == "-help" {
			return c.help(args[:1+min(1, len(args)-1)])
		}
	}
	if len(args) >= 2 {
		if h := handlers[args[0]+" "+args[1]]; h != nil {
			return h(c, ctx, args[2:])
		}
	}
	if h := handlers[args[0]]; h != nil {
		return h(c, ctx, args[1:])
	}
	if !slices.ContainsFunc(commands, func(cmd command) bool { return strings.HasPrefix(cmd.name, args[0]+" ") }) {
		fmt.Fprintf(stderr, "archivd: unknown command %q\n\n%s", args[0], usageText())
		return exitUsage
	}
	fmt.Fprintf(stderr, "archivd: %q is not complete\n", strings.Join(args, " "))
	return c.usage(args[0])
}

// handlers run the commands, by their words ("catalog rebuild" before
// "catalog"), with the arguments after them.
var handlers = map[string]func(c *cli, ctx context.Context, args []string) int{
	"demo": (*cli).demo, "ingest": (*cli).ingest, "verify": (*cli).verify, "export": (*cli).export,
	"config check": func(c *cli, _ context.Context, args []string) int {
		return c.onePath("config check", "FILE (the configuration to check)", args, c.configCheck)
	},
	"ocfl validate": func(c *cli, _ context.Context, args []string) int {
		return c.onePath("ocfl validate", "PATH (an OCFL object or storage root)", args, c.ocflValidate)
	},
	"catalog rebuild": (*cli).catalogRebuild, "audit verify": (*cli).auditVerify,
	"identify": (*cli).identify, "policy check": (*cli).policyCheck, "locations check": (*cli).locationsCheck,
	"replicate": (*cli).replicateCmd, "hold": (*cli).hold, "run": (*cli).runDaemon, "status": (*cli).status,
	"quarantine": (*cli).quarantine, "list": (*cli).list, "fixity": (*cli).fixityCmd, "report": (*cli).reportCmd,
	"keygen": (*cli).keygen, "retention": (*cli).retentionCmd, "signatures": (*cli).signaturesCmd,
	"xdomea": (*cli).xdomeaCmd, "dispose": (*cli).disposeCmd, "offer": (*cli).offerCmd,
	"version":   func(c *cli, _ context.Context, args []string) int { return c.versionCmd(args) },
	"--version": func(c *cli, _ context.Context, args []string) int { return c.versionCmd(args) },
	"help":      func(c *cli, _ context.Context, args []string) int { return c.help(args) },
	"-h":        func(c *cli, _ context.Context, args []string) int { return c.help(args) },
	"--help":    func(c *cli, _ context.Context, args []string) int { return c.help(args) },
}

// fail prints err as archivd's error and returns code.
func (c *cli) fail(err error, code int) int {
	fmt.Fprintf(c.errw, "archivd: %v\n", err)
	return code
}

// onePath runs a command that takes exactly one path; without it, it says
// which.
func (c *cli) onePath(name, what string, args []string, fn func(string) int) int {
	if len(args) != 1 {
		return c.missing(name, what)
	}
	return fn(args[0])
}

// flags parses "--config FILE" and others; positional arguments may come
// before or after flags.
func (c *cli) flags(name string, args []string, setup func(fs *flag.FlagSet)) ([]string, bool) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(c.errw)
	setup(fs)
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// configured parses --config FILE (and any extra flags) and loads the
// configuration; a non-zero code means the command must stop with it.
func (c *cli) configured(name string, args []string, extra func(*flag.FlagSet)) (*config.Config, []string, int) {
	var cfgPath string
	pos, ok := c.flags(name, args, func(fs *flag.FlagSet) {
		fs.StringVar(&cfgPath, "config", "", "configuration file")
		fs.BoolVar(&c.wait, "wait", false, "wait for the data directory's lock instead of exiting 75")
		if extra != nil {
			extra(fs)
		}
	})
	if !ok {
		return nil, nil, exitUsage
	}
	cfg, code := c.loadConfig(cfgPath)
	return cfg, pos, code
}

// optionalConfig loads the configuration at path, or returns nil for "".
func (c *cli) optionalConfig(path string) (*config.Config, int) {
	if path == "" {
		return nil, exitOK
	}
	cfg, code := c.loadConfig(path)
	if cfg == nil {
		return nil, code
	}
	return cfg, exitOK
}

func (c *cli) loadConfig(path string) (*config.Config, int) {
	if path == "" {
		fmt.Fprintln(c.errw, "archivd: --config FILE is required")
		return nil, exitUsage
	}
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: bad configuration:\n%v\n", err)
		return nil, exitConfig
	}
	c.log = archive.NewLogger(c.errw, cfg.Log.Level, cfg.Log.Format)
	return cfg, exitOK
}

func (c *cli) ingest(ctx context.Context, args []string) int {
	cfg, pos, code := c.configured("ingest", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&c.again, "again", false, "archive a case folder that was already archived unchanged")
		fs.BoolVar(&c.bag, "bag", false, "the folder is a BagIt bag: check it against its manifests, archive its payload")
	})
	if code != exitOK {
		return code
	}
	if len(pos) != 1 || pos[0] == "" {
		return c.usage("ingest")
	}
	return c.ingestWith(ctx, cfg, pos[0], nil)
}

func (c *cli) verify(ctx context.Context, args []string) int {
	var all bool
	cfg, pos, code := c.configured("verify", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&all, "all", false, "every AIP, now")
	})
	if code != exitOK {
		return code
	}
	if all == (len(pos) == 1) || len(pos) > 1 {
		return c.usage("verify")
	}
	var ids []aip.ID
	if !all {
		if ids, code = c.oneID(pos[0]); code != exitOK {
			return code
		}
	}
	return c.verifyWith(ctx, cfg, ids)
}

func (c *cli) oneID(s string) ([]aip.ID, int) {
	id, err := aip.ParseID(s)
	if err != nil {
		fmt.Fprintf(c.errw, "archivd: %v\n", err)
		return nil, exitUsage
	}
	return []aip.ID{id}, exitOK
}

func (c *cli) export(ctx context.Context, args []string) int {
	var ver string
	cfg, pos, code := c.configured("export", args, func(fs *flag.FlagSet) {
		fs.StringVar(&ver, "version", "", "version to export, e.g. v1 (default: the newest)")
	})
	if code != exitOK {
		return code
	}
	if len(pos) != 2 {
		return c.usage("export")
	}
	id, err := aip.ParseID(pos[0])
	if err != nil {
		return c.fail(err, exitUsage)
	}
	v := 0
	if ver != "" {
		n, _, ok := ocfl.ParseVersionName(ver)
		if !ok {
			fmt.Fprintf(c.errw, "archivd: --version %q: want v1, v2, ...\n", ver)
			return exitUsage
		}
		v = n
	}
	return c.exportWith(ctx, cfg, id, v, pos[1])
}

func (c *cli) configCheck(path string) int {
	cfg, err := config.Load(path)
	if err != nil {
		fmt.Fprintln(c.errw, err)
		return exitConfig
	}
	fmt.Fprintf(c.out, "%s: ok (data_dir %s, %d location(s))\n", path, cfg.DataDir, len(cfg.Locations))
	return exitOK
}

func (c *cli) ocflValidate(path string) int {
	r := ocfl.ValidatePath(path)
	r.WriteText(c.out, path)
	if !r.Valid() {
		return exitDataErr
	}
	return exitOK
}

// withArchive opens the archive for fn and closes it again; a writer's
// close seals the audit segment and stores it beside the AIPs.
func (c *cli) withArchive(ctx context.Context, cfg *config.Config, mode archive.Mode, fn func(a *archive.Archive) int) int {
	a, err := archive.Open(ctx, cfg, archive.Options{Mode: mode, Wait: c.wait, Log: c.log, Version: version, Purpose: c.command})
	if err != nil {
		return c.fail(err, exitCode(err))
	}
	defer a.Close(context.WithoutCancel(ctx)) // seal and store also after SIGTERM
	return fn(a)
}

// exitCode maps an error to the exit codes of docs/operations.md.
func exitCode(err error) int {
	var (
		locked *archive.LockedError
		fork   *audit.ForkError
		ie     *ingest.InputError
		pe     *aip.PathError
		inc    *ingest.IncompleteError
		nov    *archive.NoVersionError
		cfgErr *config.Error
	)
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &locked):
		return exitLocked
	case errors.As(err, &cfgErr):
		return exitConfig
	case errors.As(err, &nov), errors.Is(err, access.ErrTargetNotEmpty), errors.Is(err, access.ErrTargetNotFolder):
		return exitUsage
	case errors.As(err, &fork), errors.As(err, &ie), errors.As(err, &pe), storage.IsDamage(err), errors.Is(err, catalog.ErrNotFound):
		return exitDataErr
	case errors.As(err, &inc), errors.Is(err, storage.ErrUnavailable):
		return exitUnavailable
	}
	return exitFailure
}

func (c *cli) ingestWith(ctx context.Context, cfg *config.Config, folder string, idOut *aip.ID) int {
	// Shared: an ingest works beside a running daemon; the spool lock, the
	// audit log's lock and the catalog keep them apart.
	return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
		opts := archive.IngestOptions{Again: c.again}
		opts.Stage = func(stage string, took time.Duration) {
			c.log.Debug().Str("stage", stage).Dur("took", took).Msg("ingest stage done")
		}
		if bar := c.progressBar(); bar != nil {
			opts.Progress = bar
		}
		if c.bag {
			opts.Kind = ingest.KindBag
		}
		id, err := a.Ingest(ctx, folder, opts)
		if err != nil && ctx.Err() != nil {
			fmt.Fprintf(c.errw, "archivd: interrupted: the ingest of %s stopped (%v); the case folder is untouched and the next ingest of it resumes\n", folder, err)
			return exitFailure
		}
		if err != nil {
			return c.fail(err, exitCode(err))
		}
		if idOut != nil {
			*idOut = id
		}
		fmt.Fprintln(c.out, id)
		// Where it is, in the log: stdout stays the id alone, for scripts.
		copies, _ := a.Catalog().Copies(ctx, id.String(), 1)
		for _, cp := range copies {
			c.log.Info().Str("aip", id.String()).Str("location", cp.Location).Str("package", archive.ObjectURL(a.Config(), cp)).Msg("stored")
		}
		return exitOK
	})
}

// verifyWith verifies the AIPs ids (none: every AIP in the catalog).
// Damage outranks an unavailable copy, which outranks success.
func (c *cli) verifyWith(ctx context.Context, cfg *config.Config, ids []aip.ID) int {
	return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
		if len(ids) == 0 {
			names, err := a.Catalog().AIPs(ctx)
			if err != nil {
				return c.fail(err, exitFailure)
			}
			for _, n := range names {
				ids = append(ids, aip.MustParseID(n))
			}
		}
		worst := exitOK
		for _, id := range ids {
			code := c.verifyOne(ctx, a, id)
			switch {
			case code == exitDataErr || worst == exitDataErr:
				worst = exitDataErr
			case code != exitOK:
				worst = code
			}
		}
		return worst
	})
}

func (c *cli) verifyOne(ctx context.Context, a *archive.Archive, id aip.ID) int {
	rep, err := a.Verify(ctx, id)
	if rep != nil {
		rep.WriteText(c.out)
	}
	switch {
	case err != nil:
		return c.fail(err, exitCode(err))
	case rep.Damaged():
		return exitDataErr
	case rep.Unavailable():
		return exitUnavailable
	}
	return exitOK
}

func (c *cli) exportWith(ctx context.Context, cfg *config.Config, id aip.ID, v int, target string) int {
	return c.withArchive(ctx, cfg, archive.Shared, func(a *archive.Archive) int {
		rep, err := a.Export(ctx, id, v, target)
		if err != nil {
			return c.fail(err, exitCode(err))
		}
		rep.WriteText(c.out, id, target)
		return exitOK
	})
}

func (c *cli) catalogRebuild(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("catalog rebuild", args, nil)
	if code != exitOK {
		return code
	}
	return c.withArchive(ctx, cfg, archive.Writer, func(a *archive.Archive) int {
		st, err := a.RebuildCatalog(ctx)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: catalog rebuild: %v\nThe catalog is as it was before.\n", err)
			return exitCode(err)
		}
		st.WriteText(c.out)
		if len(st.Skipped) > 0 || len(st.Recovered) > 0 {
			return exitDataErr
		}
		return exitOK
	})
}

// auditVerify checks the local log's chain and compares every stored copy
// of every segment with it. It changes nothing and takes no lock, so it
// runs beside a working archivd.
func (c *cli) auditVerify(ctx context.Context, args []string) int {
	cfg, _, code := c.configured("audit verify", args, nil)
	if code != exitOK {
		return code
	}
	r, err := archive.VerifyAudit(ctx, cfg)
	if err != nil {
		return c.fail(err, exitFailure)
	}
	r.WriteText(c.out)
	switch {
	case r.Broken != nil || r.Differs():
		return exitDataErr
	case r.Pending() || len(r.Unreachable) > 0:
		return exitUnavailable
	}
	return exitOK
}
