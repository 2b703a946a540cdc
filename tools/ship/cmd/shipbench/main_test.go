package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestAPIAction(t *testing.T) {
	tests := []struct {
		name string
		req  func() *http.Request
		want string
	}{
		{"JSON 1.1", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("{}"))
			r.Header.Set("X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices")
			return r
		}, "DescribeServices"},
		{"query", func() *http.Request {
			r := httptest.NewRequest(http.MethodPost, "/", strings.NewReader("Action=DescribeStacks&Version=2010-05-15"))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
			return r
		}, "DescribeStacks"},
		{"RPCv2 CBOR", func() *http.Request {
			return httptest.NewRequest(http.MethodPost, "/service/GraniteServiceVersion20100801/operation/DescribeAlarms", nil)
		}, "DescribeAlarms"},
		{"REST", func() *http.Request { return httptest.NewRequest(http.MethodPut, "/bucket/key", nil) }, "PUT /bucket"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.req()
			if got := apiAction(r); got != tt.want {
				t.Errorf("apiAction() = %q, want %q", got, tt.want)
			}
		})
	}
	// The query form is still there for the proxy to forward.
	r := tests[1].req()
	apiAction(r)
	if err := r.ParseForm(); err != nil || r.PostForm.Get("Version") != "2010-05-15" {
		t.Errorf("after apiAction, the form = %v, %v; want it whole", r.PostForm, err)
	}
}

func TestCopyTree(t *testing.T) {
	src, dst := t.TempDir(), filepath.Join(t.TempDir(), "copy")
	for name, text := range map[string]string{"go.mod": "module x\n", "internal/a/a.go": "package a\n", "server.test": "binary"} {
		p := filepath.Join(src, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := copyTree(src, dst); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"go.mod": true, "internal/a/a.go": true, "server.test": false} {
		_, err := os.Stat(filepath.Join(dst, name))
		if got := err == nil; got != want {
			t.Errorf("copy has %s = %v, want %v", name, got, want)
		}
	}
}
