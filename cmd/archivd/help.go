package main

import (
	"fmt"
	"strings"
)

// command is one entry of archivd's help: how it is called and what it
// does, in a few lines.
type command struct {
	name, args, short, long string
}

var commands = []command{
	{"demo", "[--dir DIR] [--keep-running]", "run the service on a sample inbox: case files in, verified AIPs out",
		"Writes a configuration (the embedded default: local storage, SQLite, one inbox) into DIR, starts archivd run,\ndelivers three sample case files as a DMS export does, shows two archived and one quarantined with its reason,\nstops the service, then verifies one AIP and exports it again, byte-identical."},
	{"run", "--config FILE", "the long-running service (systemd runs exactly this)",
		"Collects finished case files from the inboxes, archives them, quarantines what it must refuse, runs the schedule.\nSIGTERM stops it cleanly, SIGHUP reloads the configuration. See docs/operations.md."},
	{"status", "--config FILE", "what the service is doing", "Cases in flight with their state, cases waiting in the inboxes, quarantined cases, the schedule, recent failures.\nTakes no lock: works beside the service."},
	{"quarantine", "list|show|retry --config FILE [--accept-formats \"WHO: WHY\"] [INBOX/CASE]", "refused cases: why, and putting one back",
		"list: every refused case. show INBOX/CASE: its reason in German and English. retry INBOX/CASE: back into its\ninbox after a fix; --accept-formats accepts the format policy's refusals, saying who and why (recorded)."},
	{"ingest", "--config FILE [--again] [--bag] FOLDER", "archive a case folder (or a BagIt bag); prints the new AIP id",
		"FOLDER is the case folder (with an optional case.yaml), or with --bag a BagIt bag, checked against its manifests.\n--again archives a folder already archived unchanged a second time. Works beside the service."},
	{"verify", "--config FILE AIP-ID | --all", "re-read every copy and version, check every digest", "Prints OK, DAMAGED (each problem named), UNAVAILABLE or MISSING per copy. Exit 65 on damage, 69 if a copy cannot be checked."},
	{"export", "--config FILE [--version vN] AIP-ID TARGET", "restore the original files into an empty folder",
		"TARGET must be an empty folder or not exist; every digest is checked before a file gets its name. The newest version by default."},
	{"list", "--config FILE [--reference R] [--agency A] [--record-class C] [--format table|csv|json]", "the archived AIPs",
		"Id, Aktenzeichen, title, closing date, size, copies and when each was last verified. R may end in * for a prefix."},
	{"config check", "FILE", "report every configuration problem with its line", "FILE is the configuration (YAML). Exit 78 if anything is wrong."},
	{"ocfl validate", "PATH", "OCFL 1.1 validation of an object or a storage root", "Errors and warnings carry the specification's codes (E001..., W001...)."},
	{"catalog rebuild", "--config FILE", "rebuild the catalog from storage and the audit log", "Builds a new catalog beside the old one and swaps it in when complete."},
	{"audit verify", "--config FILE", "check the audit trail and every stored copy of it", "The local hash chain, then every stored segment byte for byte. Takes no lock."},
	{"identify", "[--format table|csv|json] [--signatures DROID.xml] [--container-signatures C.xml] FILE|DIR...", "PUID, format, MIME, validity of each file", "Without signature files: the configured or installed ones, else the PRONOM files shipped in archivd; --signatures built-in: the small built-in set."},
	{"signatures", "[--config FILE]", "the PRONOM signature files in use: version, digest, where from",
		"By default those shipped in archivd (PRONOM, Open Government Licence v3.0), with archivd's built-in set for what they cannot identify."},
	{"signatures install", "--config FILE DROID.xml [CONTAINER.xml]", "use newer PRONOM signature files", "They are parsed first; only files that load are put into the data directory."},
	{"xdomea inspect", "[--schemas DIR] [--config F --inbox NAME] FILE.zip", "what an xdomea 0503 transfer holds and what archivd would do with it",
		"Reads xdomea 3.x and 4.0: the records, the AIPs it would make, every document named but missing, every file not named, digests,\nthe zip's entry names; with --schemas (or the inbox's), validation against the xdomea XSDs (xmllint); with --config and --inbox,\nthe retention class each record's AIP would get, and why. Ingests nothing. Exit 65 if it would refuse."},
	{"policy check", "--config FILE DIR", "what ingest would do with a case folder, without archiving it", "A dry run: the same refusals and messages as ingest (files, names, case.yaml, formats). Exit 65 if ingest would refuse."},
	{"locations check", "--config FILE", "is each location reachable, writable, versioned, locked?", "Leaves nothing behind."},
	{"fixity run", "--config FILE [--all | --aip ID...] [--location NAME] [--quick|--full]", "check stored copies now; repair damage from a good copy",
		"Without --all or --aip: the copies the schedule would take now (those verified longest ago, every copy older than\nfixity.cycle_days). Exit 65 if damage could not be repaired, 69 if a location could not be checked. The service runs it on its schedule."},
	{"fixity status", "--config FILE", "coverage per location, the oldest verification, open damage", "Reads the catalog only. Exit 65 while damage is open."},
	{"report build", "--config FILE [--period YYYY-MM] [--dir DIR]", "the period's signed fixity report: JSON, CSV, HTML",
		"Default: the last full month, into fixity.reports. Signed with the archive's key, chained to the previous report."},
	{"report verify", "[--key PUB.pem] REPORT.json", "check a report's signature, sums and chain, offline",
		"Needs no catalog and no network; docs/verify-reports.md shows the same with openssl. Exit 65 if anything is wrong."},
	{"keygen", "--config FILE [--out FILE]", "create the archive's Ed25519 signing key", "The private key (0600) at signing.key_file, the public key beside it; prints the fingerprint to publish."},
	{"replicate", "--config FILE", "make every copy the copy policy requires (idempotent)", "Needs the data directory alone; the service runs it on its schedule."},
	{"hold", "set|clear|list --config FILE --reason \"...\" [--name N] AIP-ID...", "legal hold: no disposal; Object Lock legal hold on every copy",
		"The reason and the account that sets or clears it are recorded (catalog, audit trail). list: the holds in force."},
	{"retention classes", "--config FILE", "the retention classes and how many AIPs each holds", ""},
	{"retention due", "--config FILE [--before YYYY-MM-DD] [--format table|csv|json]", "the AIPs whose retention has ended", "With their class, end, action, and any hold or disposal batch."},
	{"retention recompute", "--config FILE [--class NAME] [--name N]", "decide retention again after a class changed",
		"Explicit and logged: each change is an audit event; Object Lock is extended, never shortened."},
	{"dispose propose", "--config FILE --reason \"...\" [--name N] AIP-ID...", "a disposal batch of due AIPs", "Refused for AIPs not due, under hold, or in another batch."},
	{"dispose approve", "--config FILE [--name N] BATCH", "approve a batch: another account than the one that proposed it", ""},
	{"dispose execute", "--config FILE [--name N] BATCH", "delete every copy of an approved batch; write the signed deletion certificate",
		"Resumes after an interruption. An AIP Object Lock still protects is kept, nothing of it deleted (exit 65)."},
	{"dispose list", "--config FILE", "the disposal batches", ""},
	{"dispose show", "--config FILE BATCH", "one batch: who, when, each AIP's state", ""},
	{"offer export", "--config FILE [--name N] BATCH DIR", "an approved offer batch as BagIt bags for the receiving archive", "The AIPs stay until offer confirm."},
	{"offer confirm", "--config FILE [--name N] BATCH", "the archive took the transfer: dispose of the batch's AIPs", "Like dispose execute, with the certificate."},
	{"version", "[--config FILE]", "archivd's version, commit, Go version and the signature files in use", "With --config, the configured or installed signature files; else the PRONOM files shipped in archivd."},
	{"help", "[COMMAND]", "this text, or one command's", ""},
}

func usageText() string {
	var b strings.Builder
	b.WriteString("archivd: archive finished case files as verified archival packages, and keep them.\n\nUsage:\n")
	for _, c := range commands {
		line := "  archivd " + c.name
		if c.args != "" {
			line += " " + c.args
		}
		if len(line) > 48 {
			fmt.Fprintf(&b, "%s\n  %-47s %s\n", line, "", c.short)
		} else {
			fmt.Fprintf(&b, "%-49s %s\n", line, c.short)
		}
	}
	b.WriteString("\narchivd help COMMAND, or COMMAND --help, tells more.\n")
	b.WriteString("Exit codes: 0 ok, 1 failure, 64 usage, 65 bad input or damage found,\n69 storage unavailable, 75 data directory locked, 78 bad configuration.\n")
	return b.String()
}

// findCommand finds the command args name ("config check" takes two words).
func findCommand(args []string) *command {
	for n := min(2, len(args)); n >= 1; n-- {
		name := strings.Join(args[:n], " ")
		for i := range commands {
			if commands[i].name == name {
				return &commands[i]
			}
		}
	}
	return nil
}

// help prints one command's help, or all.
func (c *cli) help(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.out, usageText())
		return exitOK
	}
	cmd := findCommand(args)
	if cmd == nil {
		fmt.Fprintf(c.errw, "archivd: no command %q\n\n%s", strings.Join(args, " "), usageText())
		return exitUsage
	}
	fmt.Fprintf(c.out, "archivd %s %s\n\n%s.\n", cmd.name, cmd.args, strings.ToUpper(cmd.short[:1])+cmd.short[1:])
	if cmd.long != "" {
		fmt.Fprintf(c.out, "\n%s\n", cmd.long)
	}
	return exitOK
}

// missing says which argument a command lacks.
func (c *cli) missing(name, what string) int {
	fmt.Fprintf(c.errw, "archivd %s: %s is missing\n", name, what)
	return c.usage(name)
}

// usage prints how to call the command name, or every command it begins
// ("dispose": propose, approve, ...), from the help table; it returns the
// usage exit code.
func (c *cli) usage(name string) int {
	var lines []string
	for _, cmd := range commands {
		if cmd.name == name || strings.HasPrefix(cmd.name, name+" ") {
			lines = append(lines, strings.TrimSpace("archivd "+cmd.name+" "+cmd.args))
		}
	}
	fmt.Fprintf(c.errw, "usage: %s\n", strings.Join(lines, "\n       "))
	return exitUsage
}
