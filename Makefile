# The two commands of the README's quickstart are `go run ./cmd/hub serve`
# and `make test`; .ci/run calls `make test` too.

.PHONY: test check tools run bench bench-table build fuzz faults-long cluster

# tools installs what a fresh machine lacks beside Go, pinned, into
# $HOME/.cache/hub-tools/bin: a MinIO server for the S3 tests,
# staticcheck, and kubeconform for the deploy/ tests.
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

# bench-table runs, one after the other, the benchmarks that have targets
# (transfers against minio-go, scrubbing, release latency against raw
# JetStream, the feed against a static file server, the catalog at two
# sizes) and prints one Markdown table of ratios beside their limits, the
# machine and each run's load (docs/performance.md). About 45–60 minutes
# on 2 cores; `make bench-table QUICK=1` runs smaller sizes in 10–15.
bench-table: tools
	go run ./bench/table $(if $(QUICK),-quick)

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

# cluster proves scale-out on loopback (bench/cluster, bench/README.md): a
# three-node NATS JetStream cluster (the test binary re-executed as
# nats-server from deploy/nats/hub-single.conf plus a cluster block),
# MinIO and two `hub serve` replicas with HUB_NATS_REPLICAS=3. A release
# through one replica must show in the other's API and partner feed
# within a second; 1,000 releases through both, with the NATS node leading
# the release stream and one replica SIGKILLed, must reach the partners'
# durable consumers (two outlets on NATS, one webhook), the change log and
# the catalog exactly once, nothing half-written, before and after both
# come back; MinIO killed
# during an upload must be a 503 that records nothing, and the same
# replica must take the upload once MinIO is back. It prints a summary
# and fails on any violation. About three minutes on 2 cores, so not in
# `make test`.
cluster: tools
	HUB_CLUSTER=1 CI=true go test -count=1 -v -run '^TestCluster$$' -timeout 15m ./bench/cluster/
