// siegfried, the format identifier the formats benchmark compares with.
// Only benchmarks build it; archivd does not depend on it. The Go module
// proxy serves this exact version but no version list, and the checksum
// database has no entry for it: go.sum here pins what was fetched.
module github.com/archivd/archivd/tools/siegfried

go 1.26.8

tool github.com/richardlehane/siegfried/cmd/sf

require (
	github.com/richardlehane/characterize v1.0.0 // indirect
	github.com/richardlehane/match v1.0.5 // indirect
	github.com/richardlehane/mscfb v1.0.4 // indirect
	github.com/richardlehane/msoleps v1.0.3 // indirect
	github.com/richardlehane/siegfried v1.11.0 // indirect
	github.com/richardlehane/webarchive v1.0.0 // indirect
	github.com/richardlehane/xmldetect v1.0.2 // indirect
	github.com/ross-spencer/spargo v0.4.1 // indirect
	github.com/ross-spencer/wikiprov v0.2.0 // indirect
	golang.org/x/image v0.14.0 // indirect
	golang.org/x/sys v0.15.0 // indirect
	golang.org/x/text v0.14.0 // indirect
)
