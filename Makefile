# The two commands of the README's quickstart are `go run ./cmd/hub serve`
# and `make test`; .ci/run calls `make test` too.

.PHONY: test check run bench build

# test installs what a fresh machine lacks (a MinIO server for the S3
# tests), checks formatting and vet, then runs every test with the race
# detector.
test: check
	bash .ci/install-minio
	go test -race -count=1 ./...

check:
	@unformatted=$$(gofmt -l .); if [ -n "$$unformatted" ]; then echo "gofmt needed:"; echo "$$unformatted"; exit 1; fi
	go vet ./...

run:
	go run ./cmd/hub serve

build:
	go build -ldflags "-X main.version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/hub ./cmd/hub

# bench runs the throughput and memory comparisons against direct MinIO;
# see bench/README.md.
bench:
	bash .ci/install-minio
	go test -run '^$$' -bench . -benchtime 1x -timeout 30m ./bench/...
