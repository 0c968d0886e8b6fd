package main

import (
	"context"
	"flag"
	"fmt"

	"github.com/archivd/archivd/archive"
)

// signaturesCmd: which signature files are in use; install newer ones.
func (c *cli) signaturesCmd(ctx context.Context, args []string) int {
	install := len(args) > 0 && args[0] == "install"
	if install {
		args = args[1:]
	}
	var cfgPath string
	pos, ok := c.flags("signatures", args, func(fs *flag.FlagSet) { fs.StringVar(&cfgPath, "config", "", "configuration file") })
	if !ok {
		return exitUsage
	}
	cfg, code := c.optionalConfig(cfgPath)
	if code != exitOK {
		return code
	}
	if install {
		if cfg == nil || len(pos) < 1 || len(pos) > 2 {
			return c.usage("signatures install")
		}
		cont := ""
		if len(pos) == 2 {
			cont = pos[1]
		}
		id, err := archive.InstallSignatures(cfg, pos[0], cont)
		if err != nil {
			fmt.Fprintf(c.errw, "archivd: signatures install: %v (nothing was installed)\n", err)
			return exitDataErr
		}
		fmt.Fprintf(c.out, "installed in %s: %s\nevery command uses them from now on; archivd run after a reload (SIGHUP) or restart\n", archive.SignaturesDir(cfg), id.Describe())
		return exitOK
	}
	if len(pos) != 0 {
		return c.usage("signatures")
	}
	a, err := archive.NewAnalyzer(cfg, "", "")
	if err != nil {
		return c.fail(err, exitConfig)
	}
	a.ID.WriteOrigin(c.out)
	return exitOK
}
