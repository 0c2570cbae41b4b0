# The two commands of the README's quickstart are `go run ./cmd/hub serve`
# and `make test`; .ci/run calls `make test` too.

.PHONY: test check tools run bench build fuzz faults-long

# tools installs what a fresh machine lacks beside Go, pinned, into
# $HOME/.cache/hub-tools/bin: a MinIO server for the S3 tests and
# staticcheck.
tools:
	bash .ci/install-tools

# test checks formatting, vet and staticcheck, then runs every test with
# the race detector.
test: check
	go test -race -count=1 -timeout 30m ./...
	# tusd races on a broken connection (see the test): this one runs
	# without the race detector.
	go test -count=1 -run '^TestResumableUploadContinuesAfterABrokenConnection$$' ./hub/api/

check: tools
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...
	$$HOME/.cache/hub-tools/bin/staticcheck ./...

run:
	go run ./cmd/hub serve

build:
	go build -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/hub ./cmd/hub

# bench runs the throughput and memory comparisons against direct MinIO,
# of scrubbed uploads against the hub before scrubbing, of renditions,
# and of the portal's pages beside the JSON API (in Chromium too, which
# it skips without, unless CI=true); see bench/README.md.
bench: tools
	go test -run '^$$' -bench . -benchtime 1x -timeout 30m ./bench/...

# fuzz runs every fuzz target, one after the other, for FUZZTIME each
# (make fuzz FUZZTIME=5m). `make test` runs their seed corpora
# (testdata/fuzz/); a crash found here is written there as a new seed.
FUZZTIME ?= 30s
FUZZ_TARGETS = \
	./hub:FuzzParseAnnouncementID ./hub:FuzzValidAssetName ./hub:FuzzArchiveName ./hub:FuzzPackageJSON \
	./hub/api:FuzzPackageBody ./hub/api:FuzzContentDisposition ./hub/api:FuzzMultipartForm \
	./hub/api:FuzzPackageListQuery ./hub/api:FuzzReleasesCursor ./hub/api:FuzzSearchQuery \
	./push:FuzzManifest ./publisher/wire:FuzzDecode ./feeds:FuzzRender ./feeds:FuzzParseFilter \
	./media/scrub:FuzzScrubJPEG ./media/scrub:FuzzScrubPNG ./media/scrub:FuzzScrubWebP ./media/scrub:FuzzScrubGIF \
	./media/scrub:FuzzScrubSVG ./media/scrub:FuzzScrubMP4 ./media/scrub:FuzzScrubMP3 ./media/scrub:FuzzScrubWAV \
	./media/scrub:FuzzScrubPDF ./media/scrub:FuzzScrubOOXML \
	./media/renditions:FuzzPicture ./media/credit:FuzzWrite
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "== $$name ($$pkg, $(FUZZTIME))"; \
		go test -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) -fuzzminimizetime 2s $$pkg; \
	done

# faults-long runs the SIGKILL fault loop (cmd/hub TestKillLoop) for
# KILL_LOOPS kills instead of the 3 of `make test`; the counts are logged at
# the end. HUB_KILL_SEED=<seed from a log> replays a run's kill times.
KILL_LOOPS ?= 200
faults-long:
	HUB_KILL_LOOPS=$(KILL_LOOPS) go test -count=1 -v -run '^TestKillLoop$$' -timeout 120m ./cmd/hub
