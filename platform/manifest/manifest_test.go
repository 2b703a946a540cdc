package manifest

import (
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/shipyard-ecs/shipyard/platform"
)

// The repository's own manifest must always load, in every environment.
func TestRepositoryManifest(t *testing.T) {
	m, err := Load(filepath.Join("..", "..", DefaultPath))
	if err != nil {
		t.Fatalf("Load(ship.yaml) = %v, want no error", err)
	}
	for _, env := range m.Environments() {
		if _, err := m.Spec(env); err != nil {
			t.Errorf("Spec(%s) = %v, want no error", env, err)
		}
	}
	local, _ := m.Spec("local")
	if local.Account != "000000000000" || local.Region != "us-east-1" || local.Network.NAT != platform.NATSingle {
		t.Errorf("Spec(local) account, region, nat = %s, %s, %s; want 000000000000, us-east-1, single", local.Account, local.Region, local.Network.NAT)
	}
	prod, _ := m.Spec("production")
	if !prod.LoadBalancer.DeletionProtection || prod.Network.NAT != platform.NATPerAZ {
		t.Errorf("Spec(production) deletion protection, nat = %v, %s; want true, per-az", prod.LoadBalancer.DeletionProtection, prod.Network.NAT)
	}
}

func TestLoadSpec(t *testing.T) {
	path := filepath.Join("..", "..", DefaultPath)
	if s, err := LoadSpec(path, "production"); err != nil || s.Env != "production" {
		t.Errorf("LoadSpec(ship.yaml, production) = %s, %v; want the production spec", s.Env, err)
	}
	if _, err := LoadSpec(path, "nowhere"); err == nil || !strings.Contains(err.Error(), "no such environment") {
		t.Errorf("LoadSpec(ship.yaml, nowhere) = %v, want no such environment", err)
	}
	if _, err := LoadSpec(filepath.Join(t.TempDir(), "none.yaml"), "local"); err == nil || !strings.Contains(err.Error(), "read manifest") {
		t.Errorf("LoadSpec(missing file) = %v, want a read error", err)
	}
}

const base = `name: web
region: eu-west-1
task:
  cpu: 512
  memory: 1024
environments:
  staging:
    account: "111122223333"
    task:
      memory: 2048
    network:
      availabilityZones: [eu-west-1b, eu-west-1c]
  dev:
    account: "111122223333"
`

func TestSpecLayers(t *testing.T) {
	m, err := Parse("ship.yaml", []byte(base))
	if err != nil {
		t.Fatalf("Parse = %v", err)
	}
	if got := strings.Join(m.Environments(), ","); got != "staging,dev" {
		t.Errorf("Environments() = %s, want staging,dev", got)
	}
	tests := []struct {
		env, what string
		got       func(platform.Spec) any
		want      any
	}{
		{"staging", "name", func(s platform.Spec) any { return s.Name }, "web"},
		{"staging", "env", func(s platform.Spec) any { return s.Env }, "staging"},
		{"staging", "cpu from the top level", func(s platform.Spec) any { return s.Task.CPU }, 512},
		{"staging", "memory from the environment", func(s platform.Spec) any { return s.Task.Memory }, 2048},
		{"staging", "zones named", func(s platform.Spec) any { return strings.Join(s.Network.AvailabilityZones, ",") }, "eu-west-1b,eu-west-1c"},
		{"dev", "memory from the top level", func(s platform.Spec) any { return s.Task.Memory }, 1024},
		{"dev", "zones from the region", func(s platform.Spec) any { return strings.Join(s.Network.AvailabilityZones, ",") }, "eu-west-1a,eu-west-1b"},
		{"dev", "untouched default", func(s platform.Spec) any { return s.Deployment.BakeTimeInMinutes }, 3},
	}
	for _, tt := range tests {
		s, err := m.Spec(tt.env)
		if err != nil {
			t.Fatalf("Spec(%s) = %v", tt.env, err)
		}
		if got := tt.got(s); got != tt.want {
			t.Errorf("Spec(%s) %s = %v, want %v", tt.env, tt.what, got, tt.want)
		}
	}
}

// problems returns the problems of parsing doc and resolving env.
func problems(t *testing.T, doc, env string) []Problem {
	t.Helper()
	m, err := Parse("ship.yaml", []byte(doc))
	if err == nil {
		_, err = m.Spec(env)
	}
	var merr *Error
	if !errors.As(err, &merr) {
		t.Fatalf("Parse/Spec(%s) error = %v, want *Error", env, err)
	}
	return merr.Problems
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  string
		// want is the start of the full rendering of one of the problems.
		want string
	}{
		{"syntax", "name: [web\n", "x", "ship.yaml:1:7: (syntax): "},
		{"not a mapping", "- a\n- b\n", "x", "ship.yaml:1:1: (document): want a mapping"},
		{"no environments", "name: web\n", "x", "ship.yaml:1:5: environments: is missing"},
		{"unknown top-level key", "name: web\nregoin: us-east-1\nenvironments:\n  x: {}\n", "x", "ship.yaml:2:1: regoin: is not a known key; want one of account, alarms,"},
		{"unknown nested key", "name: web\nenvironments:\n  x:\n    task:\n      cpus: 256\n", "x", "ship.yaml:5:7: environments.x.task.cpus: is not a known key; want one of architecture, containerPort, cpu,"},
		{"string for int", "name: web\nenvironments:\n  x:\n    task:\n      cpu: lots\n", "x", "ship.yaml:5:12: environments.x.task.cpu: want a whole number"},
		{"int for string", "name: web\nenvironments:\n  x:\n    account: 123456789012\n", "x", "ship.yaml:4:14: environments.x.account: want a string; quote it (\"123456789012\")"},
		{"string for bool", "name: web\nenvironments:\n  x:\n    loadBalancer:\n      testListener: maybe\n", "x", "ship.yaml:5:21: environments.x.loadBalancer.testListener: want true or false"},
		{"scalar for mapping", "name: web\nenvironments:\n  x:\n    task: big\n", "x", "ship.yaml:4:11: environments.x.task: want a mapping of"},
		{"scalar for list", "name: web\nenvironments:\n  x:\n    network:\n      availabilityZones: us-east-1a\n", "x", "ship.yaml:5:26: environments.x.network.availabilityZones: want a list of strings"},
		{"unknown environment", "name: web\nenvironments:\n  x:\n    account: \"111122223333\"\n", "prod", "ship.yaml: environments.prod: no such environment; want one of x"},
		{"range in environment", "name: web\nenvironments:\n  x:\n    account: \"111122223333\"\n    deployment:\n      bakeTimeInMinutes: 2000\n", "x",
			"ship.yaml:6:26: environments.x.deployment.bakeTimeInMinutes: 2000 is out of range; want 0 to 1440"},
		{"range at the top level", "name: web\nhealthCheck:\n  intervalSeconds: 400\nenvironments:\n  x:\n    account: \"111122223333\"\n", "x",
			"ship.yaml:3:20: healthCheck.intervalSeconds: 400 is out of range; want 5 to 300"},
		{"cross-field rule on the later key", "name: web\nscaling:\n  min: 3\nenvironments:\n  x:\n    account: \"111122223333\"\n    scaling:\n      max: 2\n", "x",
			"ship.yaml:8:12: environments.x.scaling.max: 2 is less than scaling.min (3); want max >= min"},
		{"missing account points at the environment", "name: web\nenvironments:\n  x: {}\n", "x",
			"ship.yaml:3:3: account: \"\" is not valid; want 12 digits, quoted (from the defaults; set account in the manifest)"},
		{"list element", "name: web\nenvironments:\n  x:\n    account: \"111122223333\"\n    network:\n      availabilityZones: [us-east-1a, eu-west-1a]\n", "x",
			"ship.yaml:6:39: environments.x.network.availabilityZones[1]: \"eu-west-1a\" is not a zone of region us-east-1"},
		{"bad environment name", "name: web\nenvironments:\n  Prod:\n    account: \"111122223333\"\n", "Prod",
			"ship.yaml:3:3: environments.Prod: \"Prod\" is not valid; want lowercase"},
		{"fargate pair", "name: web\nenvironments:\n  x:\n    account: \"111122223333\"\n    task: {cpu: 1024, memory: 512}\n", "x",
			"ship.yaml:5:31: environments.x.task.memory: 512 MiB does not go with task.cpu 1024; want one of 2048, 3072"},
		{"bad name", "name: Web_App\nenvironments:\n  x:\n    account: \"111122223333\"\n", "x", "ship.yaml:1:7: name: \"Web_App\" is not valid"},
		{"ci repository", "name: web\nenvironments:\n  x:\n    account: \"111122223333\"\n    ci:\n      github: {repository: shipyard}\n", "x",
			"ship.yaml:6:28: environments.x.ci.github.repository: \"shipyard\" is not a GitHub repository; want owner/name"},
		{"ci unknown key", "name: web\nci: {gitlab: {}}\nenvironments:\n  x:\n    account: \"111122223333\"\n", "x",
			"ship.yaml:2:6: ci.gitlab: is not a known key; want one of github, oidcProviderArn"},
		{"alias", "name: web\nbase: &b {cpu: 256}\nenvironments:\n  x:\n    task: *b\n", "x", "ship.yaml:2:1: base: is not a known key"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps := problems(t, tt.doc, tt.env)
			found := slices.ContainsFunc(ps, func(p Problem) bool { return strings.HasPrefix(p.String(), tt.want) })
			if !found {
				t.Errorf("problems = %v, want one starting %q", ps, tt.want)
			}
		})
	}
}

func TestEveryProblemAtOnce(t *testing.T) {
	doc := `name: web
environments:
  a:
    account: "111122223333"
    task: {cpu: 300}
    loadBalancer: {hue: blue}
  b:
    account: 7
    deployment: {bakeTimeInMinutes: "3"}
`
	ps := problems(t, doc, "a")
	var got []string
	for _, p := range ps {
		got = append(got, p.Key)
	}
	want := "environments.a.loadBalancer.hue,environments.b.account,environments.b.deployment.bakeTimeInMinutes"
	if strings.Join(got, ",") != want {
		t.Errorf("Parse problems = %v, want keys %s", ps, want)
	}
}

// TestPermissionsBoundary: iam.permissionsBoundary reads at the top or per
// environment, as an ARN or a bare name; a malformed one is a problem at its
// line naming the key and what to write.
func TestPermissionsBoundary(t *testing.T) {
	const head = "name: web\nenvironments:\n  x:\n    account: \"111122223333\"\n"
	tests := []struct {
		name string
		doc  string
		want string // the boundary, or the start of the problem
		bad  bool
	}{
		{"unset", head, "", false},
		{"arn per environment", head + "    iam:\n      permissionsBoundary: arn:aws:iam::111122223333:policy/boundaries/shipyard\n",
			"arn:aws:iam::111122223333:policy/boundaries/shipyard", false},
		{"name at the top", "iam: {permissionsBoundary: shipyard-boundary}\n" + head, "shipyard-boundary", false},
		{"environment overrides the top", "iam: {permissionsBoundary: top}\n" + head + "    iam: {permissionsBoundary: mine}\n", "mine", false},
		{"malformed arn", head + "    iam:\n      permissionsBoundary: arn:aws:iam::111122223333:role/shipyard\n",
			"ship.yaml:6:28: environments.x.iam.permissionsBoundary: \"arn:aws:iam::111122223333:role/shipyard\" is not a managed policy; want its ARN, arn:aws:iam::<account>:policy/<name>, or its name alone", true},
		{"another account", head + "    iam:\n      permissionsBoundary: arn:aws:iam::444455556666:policy/b\n",
			"ship.yaml:6:28: environments.x.iam.permissionsBoundary: is in account 444455556666, not the environment's account 111122223333", true},
		{"a number", head + "    iam:\n      permissionsBoundary: 7\n", "ship.yaml:6:28: environments.x.iam.permissionsBoundary: want a string", true},
		{"misspelt key", head + "    iam:\n      permissionBoundary: b\n",
			"ship.yaml:6:7: environments.x.iam.permissionBoundary: is not a known key; want one of permissionsBoundary", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.bad {
				ps := problems(t, tt.doc, "x")
				if !slices.ContainsFunc(ps, func(p Problem) bool { return strings.HasPrefix(p.String(), tt.want) }) {
					t.Errorf("problems = %v, want one starting %q", ps, tt.want)
				}
				return
			}
			m, err := Parse("ship.yaml", []byte(tt.doc))
			if err != nil {
				t.Fatalf("Parse = %v", err)
			}
			s, err := m.Spec("x")
			if err != nil {
				t.Fatalf("Spec(x) = %v", err)
			}
			if s.IAM.PermissionsBoundary != tt.want {
				t.Errorf("Spec(x).IAM.PermissionsBoundary = %q, want %q", s.IAM.PermissionsBoundary, tt.want)
			}
		})
	}
}
