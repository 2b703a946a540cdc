package main

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// localCheckout is a checkout of its own for ship local: ship.yaml and the
// localcloud binary in bin/ beside it, where ship local up finds it. It
// returns the manifest's path.
func localCheckout(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ship.yaml"), []byte(e2eManifest), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(localcloudBinary(t), filepath.Join(dir, "bin", "localcloud")); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dir, "ship.yaml")
}

// TestLocalUpDown starts the local cloud in the background with ship local
// up (the binary found in bin/ beside ship.yaml), checks that it answers and
// keeps its files in .localcloud/, that a second up reuses it, and that
// down stops it.
func TestLocalUpDown(t *testing.T) {
	mpath := localCheckout(t)
	dir := filepath.Dir(mpath)
	addr := freeAddr(t)
	up := []string{"local", "up", "--manifest", mpath, "--addr", addr, "--time-scale", "0.02", "--listener-port-offset", "-1"}
	out, stderr, code := ship(t, up...)
	if code != exitOK || !strings.Contains(out, "started: http://"+addr) {
		t.Fatalf("ship local up = %q, %q, exit %d; want started on %s", out, stderr, code, addr)
	}
	a := &app{manifestPath: mpath}
	st, err := a.readLocalState()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(st.Pid, syscall.SIGKILL) }) // if down fails
	if !answers(context.Background(), addr) {
		t.Errorf("nothing answers on %s after ship local up", addr)
	}
	for _, f := range []string{"local.json", "localcloud.log", "state"} {
		if _, err := os.Stat(filepath.Join(dir, ".localcloud", f)); err != nil {
			t.Errorf(".localcloud/%s after ship local up: %v", f, err)
		}
	}
	if out, _, code := ship(t, up...); code != exitOK || !strings.Contains(out, "already running") {
		t.Errorf("second ship local up = %q, exit %d; want already running", out, code)
	}
	if out, _, code := ship(t, "local", "status", "--manifest", mpath); code != exitOK || !strings.Contains(out, "running: http://"+addr) {
		t.Errorf("ship local status = %q, exit %d; want running on %s", out, code, addr)
	}
	if out, _, code := ship(t, "local", "down", "--manifest", mpath); code != exitOK || !strings.Contains(out, "stopped") {
		t.Errorf("ship local down = %q, exit %d; want stopped", out, code)
	}
	if syscall.Kill(st.Pid, 0) == nil {
		t.Errorf("localcloud pid %d still runs after ship local down", st.Pid)
	}
	if out, _, _ := ship(t, "local", "status", "--manifest", mpath); !strings.Contains(out, "not running") {
		t.Errorf("ship local status after down = %q, want not running", out)
	}
	if _, _, code := ship(t, "local", "up", "--manifest", mpath, "--addr", "0.0.0.0:4566"); code != exitUsage {
		t.Errorf("ship local up --addr 0.0.0.0:4566 exit code = %d, want %d (loopback only)", code, exitUsage)
	}
}

// TestLocalUpAddressTaken runs a second checkout's ship local up on the
// address the first one's local cloud holds: it refuses with exit 2,
// naming the address and the flags (and make variables) that run it
// elsewhere, and records nothing; ship local status there never calls the
// other checkout's cloud, or a recorded pid that has exited, running.
func TestLocalUpAddressTaken(t *testing.T) {
	first, second := localCheckout(t), localCheckout(t)
	addr := freeAddr(t)
	up := func(mpath string) (string, string, int) {
		return shipIn(context.Background(), "local", "up", "--manifest", mpath, "--addr", addr, "--time-scale", "0.02", "--listener-port-offset", "-1")
	}
	if out, stderr, code := up(first); code != exitOK || !strings.Contains(out, "started: http://"+addr) {
		t.Fatalf("first checkout's ship local up = %q, %q, exit %d; want started on %s", out, stderr, code, addr)
	}
	other, err := (&app{manifestPath: first}).readLocalState()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_, _, _ = ship(t, "local", "down", "--manifest", first)
		_ = syscall.Kill(other.Pid, syscall.SIGKILL)
	})

	out, stderr, code := up(second)
	if code != exitUsage || strings.Contains(out, "started") {
		t.Errorf("second checkout's ship local up on %s = %q, exit %d; want exit %d and nothing started", addr, out, code, exitUsage)
	}
	for _, want := range []string{addr + " already answers", "ship local up --addr ", "make local-up LOCAL_ADDR="} {
		if !strings.Contains(stderr, want) {
			t.Errorf("second checkout's ship local up says %q; want it to contain %q", stderr, want)
		}
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(second), ".localcloud", "local.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after a refused ship local up, .localcloud/local.json: %v; want none", err)
	}
	if out, _, _ := ship(t, "local", "status", "--manifest", second); !strings.Contains(out, "not running") {
		t.Errorf("second checkout's ship local status = %q; want not running (the cloud on %s is the first checkout's)", out, addr)
	}

	// A recorded pid that has exited is not running, whatever answers its
	// address.
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	st := localState{Pid: gone.Process.Pid, Addr: addr, TimeScale: 0.02, PortOffset: -1}
	b, _ := json.Marshal(st)
	if err := os.MkdirAll(filepath.Join(filepath.Dir(second), ".localcloud"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(filepath.Dir(second), ".localcloud", "local.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, _, _ := ship(t, "local", "status", "--manifest", second); !strings.Contains(out, "not running") || !strings.Contains(out, "has exited") {
		t.Errorf("ship local status with the exited pid %d recorded = %q; want not running", st.Pid, out)
	}
}

// TestLocalUpStrictPorts: the local cloud ship local up starts with a
// listener port offset serves listener port P on P+offset or fails it,
// never on another port, so the URL ship computes is where the service
// answers (GET /_localcloud/info says strictPorts).
func TestLocalUpStrictPorts(t *testing.T) {
	mpath := localCheckout(t)
	addr := freeAddr(t)
	out, stderr, code := shipIn(context.Background(), "local", "up", "--manifest", mpath, "--addr", addr, "--time-scale", "0.02", "--listener-port-offset", "30000")
	if code != exitOK {
		t.Fatalf("ship local up = %q, %q, exit %d; want started", out, stderr, code)
	}
	t.Cleanup(func() { _, _, _ = ship(t, "local", "down", "--manifest", mpath) })
	resp, err := http.Get("http://" + addr + "/_localcloud/info")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var info struct {
		StrictPorts        bool `json:"strictPorts"`
		ListenerPortOffset int  `json:"listenerPortOffset"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&info); err != nil || !info.StrictPorts || info.ListenerPortOffset != 30000 {
		t.Errorf("GET /_localcloud/info after ship local up --listener-port-offset 30000 = %+v (%v); want strictPorts with offset 30000", info, err)
	}
}
