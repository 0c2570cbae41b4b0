package deploy_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

// filledEnv is compose.env.example as an operator fills it in before the
// first `docker compose up` (its header says which values to set): every
// empty value gets one. With optional, the optional settings shown
// commented out are set too, to the values shown. It returns the path of
// the .env file written.
func filledEnv(t *testing.T, optional bool) string {
	t.Helper()
	example, err := os.ReadFile("compose.env.example")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(example), "\n") {
		if m := optionalSetting.FindStringSubmatch(line); optional && m != nil {
			line = m[1]
		}
		if name, ok := strings.CutSuffix(line, "="); ok && envAssignment.MatchString(line) {
			line = name + "=" + strings.ToLower(strings.ReplaceAll(name, "_", "-")) + "-0123456789abcdef"
		}
		out = append(out, line)
	}
	path := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(path, []byte(strings.Join(out, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// envAssignment is a NAME=value line of an env file, or one commented
// out ("# NAME=value", an optional setting shown with its default).
var envAssignment = regexp.MustCompile(`^#?\s*([A-Z][A-Z0-9_]*)=`)

// optionalSetting is a commented-out "# NAME=value   # what it is" line.
var optionalSetting = regexp.MustCompile(`^#\s*([A-Z][A-Z0-9_]*=\S+)(\s+#.*)?$`)

// loadCompose loads compose.yaml the way `docker compose config` does
// (docker/compose's ToProjectOptions): the env file for interpolation,
// COMPOSE_PROFILES for the profiles, validation against the compose
// schema, the consistency checks (services, networks, volumes that
// references name exist), paths resolved against this directory. The
// shell environment is left out so the result does not depend on who runs
// the test.
func loadCompose(ctx context.Context, envFile string) (*types.Project, error) {
	opts, err := cli.NewProjectOptions([]string{"compose.yaml"},
		cli.WithWorkingDirectory("."),
		cli.WithEnvFiles(envFile),
		cli.WithDotEnv,
		cli.WithDefaultProfiles(),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		return nil, fmt.Errorf("compose options: %w", err)
	}
	return opts.LoadProject(ctx)
}

// TestComposeNeedsAdminKey: the example as shipped, unfilled, is refused
// with the message that says what to set, not started with replicas that
// each generate an admin key of their own.
func TestComposeNeedsAdminKey(t *testing.T) {
	_, err := loadCompose(t.Context(), "compose.env.example")
	if err == nil || !strings.Contains(err.Error(), "set HUB_ADMIN_KEY") {
		t.Fatalf("compose.yaml with compose.env.example unfilled: %v, want the HUB_ADMIN_KEY message", err)
	}
}

// TestCompose loads compose.yaml with the example's settings filled in
// and checks what `docker compose up` would trip over only later, on a
// Docker host.
func TestCompose(t *testing.T) {
	for _, optional := range []bool{false, true} {
		t.Run(fmt.Sprintf("optional settings set %v", optional), func(t *testing.T) {
			testCompose(t, filledEnv(t, optional))
		})
	}
}

func testCompose(t *testing.T, envFile string) {
	project, err := loadCompose(t.Context(), envFile)
	if err != nil {
		t.Fatalf("docker compose config would fail: %v", err)
	}
	if len(project.DisabledServices) > 0 {
		t.Errorf("services only a profile starts: %v (the README's `up` would not start them)", project.DisabledServiceNames())
	}
	hubs := hubServices(project)
	if len(hubs) < 2 {
		t.Fatalf("hub services (built from deploy/Dockerfile): %v, want the two replicas", hubs)
	}
	for _, problem := range composeProblems(project) {
		t.Error(problem)
	}
	for _, problem := range nginxProblems(t, project) {
		t.Error(problem)
	}
}

// TestComposeProblemsAreFound keeps composeProblems honest: each mistake
// below, made to the loaded project, is reported.
func TestComposeProblemsAreFound(t *testing.T) {
	for _, tc := range []struct {
		name    string
		service string // the one spoil changes
		spoil   func(p *types.Project)
		want    string
	}{
		{"misspelt hub setting", "hub-1", func(p *types.Project) {
			s := p.Services["hub-1"]
			v := "assets"
			s.Environment["HUB_S3_BUKET"] = &v
			p.Services["hub-1"] = s
		}, "HUB_S3_BUKET is not a setting"},
		{"dependency without a health check", "minio", func(p *types.Project) {
			s := p.Services["minio"]
			s.HealthCheck = nil
			p.Services["minio"] = s
		}, `waits for minio to be healthy, which has no health check`},
		{"unknown dependency", "lb", func(p *types.Project) {
			s := p.Services["lb"]
			s.DependsOn["hub-3"] = types.ServiceDependency{Condition: types.ServiceConditionHealthy}
			p.Services["lb"] = s
		}, "depends on hub-3, which is not a service"},
		{"scratch on the read-only root", "hub-2", func(p *types.Project) {
			s := p.Services["hub-2"]
			s.Volumes = nil
			p.Services["hub-2"] = s
		}, "hub-2: HUB_SCRATCH_DIR /var/lib/hub-scratch is on the read-only root filesystem"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			project, err := loadCompose(t.Context(), filledEnv(t, false))
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := project.Services[tc.service]; !ok {
				t.Fatalf("compose.yaml has no service %s to spoil", tc.service)
			}
			tc.spoil(project)
			problems := strings.Join(composeProblems(project), "\n")
			if !strings.Contains(problems, tc.want) {
				t.Errorf("problems:\n%s\nwant one containing %q", problems, tc.want)
			}
		})
	}
}

// hubServices are the services that run the hub: built from
// deploy/Dockerfile.
func hubServices(p *types.Project) []string {
	var names []string
	for _, name := range p.ServiceNames() {
		if b := p.Services[name].Build; b != nil && filepath.Join(b.Context, b.Dockerfile) == mustAbs("Dockerfile") {
			names = append(names, name)
		}
	}
	return names
}

func mustAbs(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		panic(err)
	}
	return abs
}

// composeProblems is what is wrong with the project beyond what the
// compose loader checks itself.
func composeProblems(p *types.Project) []string {
	var problems []string
	add := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	image := dockerfileImage()
	usedVolumes := map[string]bool{}
	for _, name := range p.ServiceNames() {
		s := p.Services[name]
		if s.Image == "" && s.Build == nil {
			add("%s: neither image nor build", name)
		}
		if s.Build != nil {
			dockerfile := s.Build.Dockerfile
			if !filepath.IsAbs(dockerfile) {
				dockerfile = filepath.Join(s.Build.Context, dockerfile)
			}
			if _, err := os.Stat(dockerfile); err != nil {
				add("%s: build: %v", name, err)
			}
		}
		if s.HealthCheck == nil || s.HealthCheck.Disable || len(s.HealthCheck.Test) == 0 {
			add("%s: no health check (every service has one: the others wait for it)", name)
		}
		for _, dep := range slices.Sorted(maps.Keys(s.DependsOn)) {
			target, ok := p.Services[dep]
			if !ok {
				add("%s depends on %s, which is not a service", name, dep)
				continue
			}
			if s.DependsOn[dep].Condition == types.ServiceConditionHealthy && (target.HealthCheck == nil || target.HealthCheck.Disable) {
				add("%s waits for %s to be healthy, which has no health check", name, dep)
			}
		}
		writable := slices.Clone([]string(s.Tmpfs))
		for _, v := range s.Volumes {
			switch v.Type {
			case types.VolumeTypeVolume:
				usedVolumes[v.Source] = true
				if _, ok := p.Volumes[v.Source]; !ok {
					add("%s mounts volume %s, which volumes: does not declare", name, v.Source)
				}
			case types.VolumeTypeBind:
				if _, err := os.Stat(v.Source); err != nil {
					add("%s binds %s, which is not in deploy/: %v", name, v.Source, err)
				}
			}
			if !v.ReadOnly {
				writable = append(writable, v.Target)
			}
		}
		if !slices.Contains(hubServices(p), name) {
			continue
		}
		env := map[string]string{}
		for k, v := range s.Environment {
			if v == nil {
				add("%s: %s has no value", name, k)
				continue
			}
			env[k] = *v
		}
		if err := checkHubEnv(env); err != nil {
			add("%s: %v", name, err)
		}
		// The image's user must be able to write to a named volume: Docker
		// gives a new volume the owner of the image's directory at its
		// mount point, and root's when the image has none there.
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeVolume && !image.hubDirs[v.Target] {
				add("%s: volume %s at %s: deploy/Dockerfile creates no directory there owned by hub, so the volume is root's and the hub (a user) cannot write to it", name, v.Source, v.Target)
			}
		}
		if s.ReadOnly {
			dirs := map[string]string{"HUB_DATA_DIR": image.env["HUB_DATA_DIR"], "HUB_SCRATCH_DIR": ""}
			for k := range dirs {
				if v, ok := env[k]; ok {
					dirs[k] = v
				}
			}
			if dirs["HUB_SCRATCH_DIR"] == "" {
				dirs["HUB_SCRATCH_DIR"] = filepath.Join(dirs["HUB_DATA_DIR"], "scratch")
			}
			for _, k := range slices.Sorted(maps.Keys(dirs)) {
				if !slices.ContainsFunc(writable, func(w string) bool { return within(dirs[k], w) }) {
					add("%s: %s %s is on the read-only root filesystem (no volume or tmpfs holds it)", name, k, dirs[k])
				}
			}
		}
	}
	for _, v := range slices.Sorted(maps.Keys(p.Volumes)) {
		if !usedVolumes[v] {
			add("volume %s is declared and mounted by no service", v)
		}
	}
	return problems
}

// within reports whether path is dir or below it.
func within(path, dir string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, "../")
}

// image is what the compose checks need to know of deploy/Dockerfile's
// final stage.
type image struct {
	env     map[string]string // its ENV
	hubDirs map[string]bool   // directories it creates owned by user hub
}

// dockerfileImage reads deploy/Dockerfile: ENV settings and the
// directories an `install -d -o hub` creates.
func dockerfileImage() image {
	img := image{env: map[string]string{}, hubDirs: map[string]bool{}}
	b, err := os.ReadFile("Dockerfile")
	if err != nil {
		return img
	}
	// One instruction a line: continuations joined.
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\\\n", " "), "\n") {
		fields := strings.Fields(line)
		if len(fields) > 0 && fields[0] == "ENV" {
			for _, f := range fields[1:] {
				if k, v, ok := strings.Cut(f, "="); ok {
					img.env[k] = v
				}
			}
		}
		for _, cmd := range strings.Split(line, "&&") {
			words := strings.Fields(cmd)
			if len(words) < 2 || words[0] != "install" || !slices.Contains(words, "-d") || !slices.Contains(words, "hub") {
				continue
			}
			if i := slices.Index(words, "-o"); i < 0 || i+1 >= len(words) || words[i+1] != "hub" {
				continue
			}
			for _, w := range words {
				if strings.HasPrefix(w, "/") {
					img.hubDirs[w] = true
				}
			}
		}
	}
	return img
}

// TestComposeEnvExample: every variable compose.yaml reads is in
// compose.env.example (set or shown commented out), and the example names
// none that compose.yaml ignores (a misspelt setting there would be
// silently dropped).
func TestComposeEnvExample(t *testing.T) {
	compose, err := os.ReadFile("compose.yaml")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("compose.env.example")
	if err != nil {
		t.Fatal(err)
	}
	read := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)`).FindAllStringSubmatch(string(compose), -1) {
		read[m[1]] = true
	}
	listed := map[string]bool{}
	for _, line := range strings.Split(string(example), "\n") {
		if m := envAssignment.FindStringSubmatch(line); m != nil {
			listed[m[1]] = true
		}
	}
	for _, name := range slices.Sorted(maps.Keys(read)) {
		if !listed[name] {
			t.Errorf("compose.yaml reads ${%s}, which compose.env.example does not list", name)
		}
	}
	for _, name := range slices.Sorted(maps.Keys(listed)) {
		if !read[name] {
			t.Errorf("compose.env.example lists %s, which compose.yaml never reads", name)
		}
	}
}

// nginxProblems checks nginx.conf against the compose project: every hub
// replica is in the round-robin upstream, and its resumable uploads
// (/v1/uploads/<HUB_REPLICA>.*) are routed to it alone, on the port it
// listens on.
func nginxProblems(t *testing.T, p *types.Project) []string {
	t.Helper()
	b, err := os.ReadFile("nginx.conf")
	if err != nil {
		t.Fatal(err)
	}
	conf := regexp.MustCompile(`(?m)#.*$`).ReplaceAllString(string(b), "")
	upstreams := map[string][]string{}
	for _, m := range regexp.MustCompile(`upstream\s+(\w+)\s*\{([^}]*)\}`).FindAllStringSubmatch(conf, -1) {
		for _, s := range regexp.MustCompile(`server\s+(\S+)`).FindAllStringSubmatch(m[2], -1) {
			upstreams[m[1]] = append(upstreams[m[1]], s[1])
		}
	}
	routes := map[string]string{}
	for _, m := range regexp.MustCompile(`location\s+~\s+\^/v1/uploads/([a-z0-9-]+)\\\.\s*\{\s*proxy_pass\s+http://(\w+);`).FindAllStringSubmatch(conf, -1) {
		routes[m[1]] = m[2]
	}
	var main string
	if m := regexp.MustCompile(`location\s+/\s*\{\s*proxy_pass\s+http://(\w+);`).FindStringSubmatch(conf); m != nil {
		main = m[1]
	}
	var problems []string
	for _, name := range hubServices(p) {
		s := p.Services[name]
		env := func(k string) string {
			if v := s.Environment[k]; v != nil {
				return *v
			}
			return ""
		}
		_, port, _ := strings.Cut(env("HUB_ADDR"), ":")
		server := name + ":" + port
		if !slices.Contains(upstreams[main], server) {
			problems = append(problems, fmt.Sprintf("nginx.conf: location / (upstream %q) does not list %s", main, server))
		}
		replica := env("HUB_REPLICA")
		if replica == "" {
			problems = append(problems, fmt.Sprintf("%s: no HUB_REPLICA, so its upload ids begin with the container's host name, which nginx.conf cannot route", name))
			continue
		}
		up, ok := routes[replica]
		if !ok {
			problems = append(problems, fmt.Sprintf("nginx.conf: no location for /v1/uploads/%s.* (%s's resumable uploads)", replica, name))
		} else if !slices.Equal(upstreams[up], []string{server}) {
			problems = append(problems, fmt.Sprintf("nginx.conf: /v1/uploads/%s.* goes to upstream %s = %v, want %s alone", replica, up, upstreams[up], server))
		}
	}
	return problems
}
