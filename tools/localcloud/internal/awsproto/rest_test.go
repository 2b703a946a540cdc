package awsproto

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

func TestRESTRouting(t *testing.T) {
	m := NewMux(slog.New(slog.DiscardHandler))
	op := Op[echoIn](echo)
	m.HandleQuery(QueryService{Version: "2020-01-01", SigningName: "echo", XMLNamespace: "urn:echo", ValidationCode: "ValidationError", Ops: map[string]QueryOp{"Echo": op.Query()}})
	m.HandleREST("s3", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "s3 "+r.Method+" "+r.URL.Path) }), true)
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	sig := func(svc string) string {
		return "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/" + svc + "/aws4_request, SignedHeaders=host, Signature=x"
	}
	tests := []struct {
		name, method, path, auth, ctype, body, want string
	}{
		{"signed for s3", "PUT", "/bucket/key", sig("s3"), "text/plain", "data", "s3 PUT /bucket/key"},
		{"signed POST with Action-looking body", "POST", "/bucket?delete", sig("s3"), "application/xml", "<Delete/>", "s3 POST /bucket"},
		{"presigned", "GET", "/bucket/key?X-Amz-Credential=" + url.QueryEscape("test/20260101/us-east-1/s3/aws4_request"), "", "", "", "s3 GET /bucket/key"},
		{"unsigned GET falls back", "GET", "/bucket/key", "", "", "", "s3 GET /bucket/key"},
		{"query form POST stays query", "POST", "/", "", "application/x-www-form-urlencoded", "Action=Echo&Version=2020-01-01&Name=a", "<EchoResult>"},
		{"query signed for another service", "POST", "/", sig("echo"), "application/x-www-form-urlencoded", "Action=Echo&Name=a", "<EchoResult>"},
		{"GET with Action stays query", "GET", "/?Action=Echo&Version=2020-01-01&Name=a", "", "", "", "<EchoResult>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(context.Background(), tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			if tt.ctype != "" {
				req.Header.Set("Content-Type", tt.ctype)
			}
			_, _, body := do(t, req)
			if !strings.Contains(string(body), tt.want) {
				t.Errorf("%s %s = %q, want it to contain %q", tt.method, tt.path, body, tt.want)
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	m := NewMux(slog.New(slog.DiscardHandler))
	m.HandleJSON(JSONService{TargetPrefix: "Svc", Version: "1.0", Ops: map[string]JSONOp{"Fail": func(context.Context, []byte) (any, error) {
		return nil, &Error{Code: "TransactionCanceledException", Message: "cancelled", Fields: map[string]any{"CancellationReasons": []map[string]string{{"Code": "None"}}, "message": "ignored"}}
	}}})
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader("{}"))
	req.Header.Set("X-Amz-Target", "Svc.Fail")
	status, _, body := do(t, req)
	var got struct {
		Type                string `json:"__type"`
		Message             string `json:"message"`
		CancellationReasons []struct{ Code string }
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	if status != 400 || got.Type != "TransactionCanceledException" || got.Message != "cancelled" || len(got.CancellationReasons) != 1 || got.CancellationReasons[0].Code != "None" {
		t.Errorf("error body = %d %s, want the code, the message and the extra member", status, body)
	}
}
