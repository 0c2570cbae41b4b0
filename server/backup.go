package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/nats-io/nats.go"

	"github.com/syndication-hub/hub/hub"
	"github.com/syndication-hub/hub/hub/backup"
	"github.com/syndication-hub/hub/hub/disk"
	"github.com/syndication-hub/hub/hub/natsserver"
	"github.com/syndication-hub/hub/hub/s3"
)

// ToolOptions tune `hub backup`, `hub restore` and `hub migrate`.
type ToolOptions struct {
	// Force replaces a whole backup in the output directory, or restores
	// over a target that holds a hub's state already.
	Force  bool
	Logger *slog.Logger
}

func (o ToolOptions) log() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

// Backup writes a backup of the stopped hub cfg describes into out: with
// no HUB_NATS_URL its data dir (the embedded NATS store, opened here
// without a client listener, and the blobs on disk); else the external
// NATS account and S3 bucket it names.
func Backup(ctx context.Context, cfg Config, out string, opts ToolOptions) (*backup.Manifest, error) {
	src, err := openStateEnds(ctx, cfg, true, opts.log())
	if err != nil {
		return nil, err
	}
	defer src.close()
	m, err := backup.Backup(ctx, backup.Source{NATS: src.nc, Blobs: src.blobs}, out, openDiskBlobs,
		backup.Options{Force: opts.Force, Logger: opts.log()})
	if err != nil {
		return nil, fmt.Errorf("back up into %s: %w", out, err)
	}
	return m, nil
}

// Restore restores the backup in dir into the state cfg describes (a data
// dir, or an external NATS and S3), which must be empty unless forced; a
// restore cut off half-way is continued by running it again.
func Restore(ctx context.Context, dir string, cfg Config, opts ToolOptions) error {
	m, err := backup.ReadManifest(dir)
	if err != nil {
		return err
	}
	if !backup.HasBlobs(dir) {
		return fmt.Errorf("the backup in %s holds no blobs (a migration's working copy): restore a backup made by `hub backup`", dir)
	}
	from, err := disk.Open(filepath.Join(dir, backup.BlobsDir))
	if err != nil {
		return fmt.Errorf("open the backup's blobs: %w", err)
	}
	dst, err := openStateEnds(ctx, cfg, false, opts.log())
	if err != nil {
		return err
	}
	defer dst.close()
	return backup.Restore(ctx, m, dir, from, backup.Target{NATS: dst.nc, Replicas: cfg.NATSReplicas, Blobs: dst.blobs},
		backup.Options{Force: opts.Force, Logger: opts.log()})
}

// Migrate moves the stopped single-machine hub in cfg.DataDir onto the
// external NATS (cfg.NATSURL, the hub's account) and S3 bucket cfg names:
// a backup of the streams into workDir ("" is <data dir>/migration),
// restored there with cfg.NATSReplicas copies, every blob copied
// straight from the data dir and checked. The data dir stays locked
// throughout and is left as it was; workDir is removed once the
// migration finished.
func Migrate(ctx context.Context, cfg Config, workDir string, opts ToolOptions) (*backup.Manifest, error) {
	if cfg.NATSURL == "" || cfg.S3Endpoint == "" {
		return nil, errors.New("a migration needs the target: HUB_NATS_URL (a user of the hub's account allowed the whole JetStream API, such as admin) and HUB_S3_ENDPOINT")
	}
	if workDir == "" {
		workDir = filepath.Join(cfg.DataDir, "migration")
	}
	src, err := openStateEnds(ctx, Config{DataDir: cfg.DataDir}, true, opts.log())
	if err != nil {
		return nil, err
	}
	defer src.close()
	// The working copy is this tool's own: an earlier one (a migration
	// cut off) is replaced.
	m, err := backup.Backup(ctx, backup.Source{NATS: src.nc}, workDir, openDiskBlobs, backup.Options{Force: true, Logger: opts.log()})
	if err != nil {
		return nil, fmt.Errorf("snapshot the hub's streams into %s: %w", workDir, err)
	}
	dst, err := openStateEnds(ctx, cfg, false, opts.log())
	if err != nil {
		return nil, err
	}
	defer dst.close()
	err = backup.Restore(ctx, m, workDir, src.blobs, backup.Target{NATS: dst.nc, Replicas: cfg.NATSReplicas, Blobs: dst.blobs},
		backup.Options{Force: opts.Force, Logger: opts.log()})
	if err != nil {
		return nil, err
	}
	if err := os.RemoveAll(workDir); err != nil {
		return nil, fmt.Errorf("the migration finished; removing its working copy %s failed: %w", workDir, err)
	}
	return m, nil
}

func openDiskBlobs(path string) (hub.BlobStore, error) { return disk.Open(path) }

// stateEnds is where a stopped hub's state lives, opened for a tool.
type stateEnds struct {
	embedded *natsserver.Server
	nc       *nats.Conn
	blobs    hub.BlobStore
}

// openStateEnds opens the NATS and blob store cfg names: the data dir's
// embedded NATS store (locked, so no hub runs on it meanwhile, and with
// no client listener) and blobs on disk, or the external NATS and S3.
// source says the state must exist already (a data dir is not created).
func openStateEnds(ctx context.Context, cfg Config, source bool, log *slog.Logger) (_ *stateEnds, err error) {
	if cfg.NATSReplicas < 1 {
		cfg.NATSReplicas = 1
	}
	if cfg.S3Endpoint != "" && (cfg.S3AccessKey == "" || cfg.S3SecretKey == "") {
		return nil, errors.New("HUB_S3_ENDPOINT is set, so HUB_S3_ACCESS_KEY and HUB_S3_SECRET_KEY are needed too")
	}
	e := &stateEnds{}
	defer func() {
		if err != nil {
			e.close()
		}
	}()
	storeDir := filepath.Join(cfg.DataDir, "nats")
	switch {
	case cfg.NATSURL != "":
		opts := []nats.Option{nats.Name("hub tools")}
		if cfg.NATSCreds != "" {
			opts = append(opts, nats.UserCredentials(cfg.NATSCreds))
		}
		if e.nc, err = nats.Connect(cfg.NATSURL, opts...); err != nil {
			return nil, fmt.Errorf("connect to NATS at %s: %w", redactURLs(cfg.NATSURL), err)
		}
	default:
		if _, serr := os.Stat(storeDir); source && serr != nil {
			return nil, fmt.Errorf("no hub in data dir %s (%w)", cfg.DataDir, serr)
		}
		if e.embedded, err = natsserver.Start(natsserver.Options{StoreDir: storeDir, InProcessOnly: true, Logger: log}); err != nil {
			return nil, err
		}
		if e.nc, err = e.embedded.Connect("hub tools"); err != nil {
			return nil, err
		}
	}
	switch {
	case cfg.S3Endpoint != "":
		if e.blobs, err = s3.Open(ctx, s3.Options{
			Endpoint: cfg.S3Endpoint, Bucket: cfg.S3Bucket, AccessKey: cfg.S3AccessKey, SecretKey: cfg.S3SecretKey,
			Secure: cfg.S3Secure, Region: cfg.S3Region, StallTimeout: cfg.S3StallTimeout, Logger: log,
		}); err != nil {
			return nil, fmt.Errorf("open S3 bucket %s at %s: %w", cfg.S3Bucket, cfg.S3Endpoint, err)
		}
	default:
		blobDir := filepath.Join(cfg.DataDir, "blobs")
		if _, serr := os.Stat(blobDir); source && serr != nil {
			return nil, fmt.Errorf("no blobs in data dir %s (%w)", cfg.DataDir, serr)
		}
		if e.blobs, err = disk.Open(blobDir); err != nil {
			return nil, fmt.Errorf("open blob directory: %w", err)
		}
	}
	return e, nil
}

func (e *stateEnds) close() {
	if e.nc != nil {
		e.nc.Close()
	}
	if e.embedded != nil {
		e.embedded.Shutdown()
	}
}
