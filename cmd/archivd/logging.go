package main

import (
	"fmt"
	"time"

	"github.com/archivd/archivd/archive"
	"github.com/archivd/archivd/ingest"
	"github.com/schollz/progressbar/v3"
)

// progressBar draws the ingest's progress on a terminal (files, bytes,
// rate, time left); nil when stderr is not one, so logs and pipes stay clean.
func (c *cli) progressBar() func(ingest.Progress) {
	if !archive.IsTerminal(c.errw) {
		return nil
	}
	var bar *progressbar.ProgressBar
	phase := ""
	return func(p ingest.Progress) {
		if p.Phase != phase || bar == nil {
			if bar != nil {
				bar.Finish()
				fmt.Fprintln(c.errw)
			}
			phase = p.Phase
			bar = progressbar.NewOptions64(p.TotalBytes,
				progressbar.OptionSetWriter(c.errw),
				progressbar.OptionSetDescription(fmt.Sprintf("%-16s", p.Phase)),
				progressbar.OptionShowBytes(true),
				progressbar.OptionShowCount(),
				progressbar.OptionSetPredictTime(true),
				progressbar.OptionThrottle(200*time.Millisecond),
				progressbar.OptionClearOnFinish())
		}
		bar.Describe(fmt.Sprintf("%-16s %d/%d files", p.Phase, p.Files, p.TotalFiles))
		bar.Set64(p.Bytes)
		if p.Bytes >= p.TotalBytes && p.Files >= p.TotalFiles {
			bar.Finish()
		}
	}
}
