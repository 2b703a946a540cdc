package awsproto

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"
)

type echoIn struct {
	Name  string
	Count *int32
	When  *Timestamp
	Tags  []struct{ Key, Value string }
	Attrs map[string]string
}

type echoOut struct {
	Name  string    `json:"Name" xml:"Name"`
	Count int32     `json:"Count" xml:"Count"`
	When  Timestamp `json:"When" xml:"When"`
	Tags  []string  `json:"Tags,omitempty" xml:"Tags>member"`
}

func echo(_ context.Context, in *echoIn) (any, error) {
	if in.Name == "" {
		return nil, Validation("ValidationError", Required("Name"))
	}
	out := echoOut{Name: in.Name}
	if in.Count != nil {
		out.Count = *in.Count
	}
	if in.When != nil {
		out.When = *in.When
	}
	for _, t := range in.Tags {
		out.Tags = append(out.Tags, t.Key+"="+t.Value)
	}
	return out, nil
}

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	m := NewMux(slog.New(slog.DiscardHandler))
	op := Op[echoIn](echo)
	m.HandleJSON(JSONService{TargetPrefix: "Echo_2020", Version: "1.1", Ops: map[string]JSONOp{"Echo": op.JSON()}})
	m.HandleQuery(QueryService{Version: "2020-01-01", SigningName: "echo", XMLNamespace: "urn:echo", ValidationCode: "ValidationError", Ops: map[string]QueryOp{"Echo": op.Query()}})
	m.HandleCBOR(CBORService{Name: "Echo", QueryCompatible: true, Ops: map[string]CBOROp{"Echo": op.CBOR()}})
	m.Handle("/v2/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, "registry") }))
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	return srv
}

func do(t *testing.T, req *http.Request) (int, http.Header, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, b
}

func TestJSON(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name       string
		target     string
		body       string
		wantStatus int
		wantType   string // __type of an error
		wantName   string
	}{
		{"ok", "Echo_2020.Echo", `{"Name":"a","When":1700000000.5}`, 200, "", "a"},
		{"lower-case member names", "Echo_2020.Echo", `{"name":"b"}`, 200, "", "b"},
		{"unknown op", "Echo_2020.Nope", `{}`, 400, CodeUnknownOperation, ""},
		{"unknown service", "Other.Echo", `{}`, 400, CodeUnknownOperation, ""},
		{"malformed", "Echo_2020.Echo", `{"Name":`, 400, CodeSerialization, ""},
		{"wrong type", "Echo_2020.Echo", `{"Name":5}`, 400, CodeSerialization, ""},
		{"missing required", "Echo_2020.Echo", `{}`, 400, "ValidationError", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tt.body))
			req.Header.Set("X-Amz-Target", tt.target)
			req.Header.Set("Content-Type", "application/x-amz-json-1.1")
			status, hdr, body := do(t, req)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", status, tt.wantStatus, body)
			}
			var got map[string]any
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatalf("decode %s: %v", body, err)
			}
			if tt.wantType != "" {
				if got["__type"] != tt.wantType || hdr.Get("X-Amzn-ErrorType") != tt.wantType {
					t.Errorf("__type = %v (header %q), want %s", got["__type"], hdr.Get("X-Amzn-ErrorType"), tt.wantType)
				}
				return
			}
			if got["Name"] != tt.wantName {
				t.Errorf("Name = %v, want %s", got["Name"], tt.wantName)
			}
		})
	}
}

func TestJSONTimestampIsEpochSeconds(t *testing.T) {
	srv := newTestServer(t)
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(`{"Name":"a","When":1700000000.25}`))
	req.Header.Set("X-Amz-Target", "Echo_2020.Echo")
	_, _, body := do(t, req)
	if !strings.Contains(string(body), `"When":1700000000.25`) {
		t.Errorf("body = %s, want When as epoch seconds 1700000000.25", body)
	}
}

func TestQuery(t *testing.T) {
	srv := newTestServer(t)
	tests := []struct {
		name       string
		form       url.Values
		auth       string
		wantStatus int
		wantCode   string
		wantInBody string
	}{
		{"ok with lists", url.Values{"Action": {"Echo"}, "Version": {"2020-01-01"}, "Name": {"a"}, "Tags.member.1.Key": {"k"}, "Tags.member.1.Value": {"v"}, "Tags.member.2.Key": {"k2"}, "When": {"2026-01-02T03:04:05Z"}}, "", 200, "", "<Tags><member>k=v</member><member>k2=</member></Tags>"},
		{"timestamp is ISO 8601", url.Values{"Action": {"Echo"}, "Version": {"2020-01-01"}, "Name": {"a"}, "When": {"2026-01-02T03:04:05Z"}}, "", 200, "", "<When>2026-01-02T03:04:05.000Z</When>"},
		{"by signing name", url.Values{"Action": {"Echo"}, "Name": {"a"}}, "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/echo/aws4_request, SignedHeaders=host", 200, "", "<EchoResult>"},
		{"unknown action", url.Values{"Action": {"Nope"}, "Version": {"2020-01-01"}}, "", 400, CodeInvalidAction, ""},
		{"missing action", url.Values{"Version": {"2020-01-01"}}, "", 400, CodeMissingAction, ""},
		{"wrong type", url.Values{"Action": {"Echo"}, "Version": {"2020-01-01"}, "Name": {"a"}, "Count": {"x"}}, "", 400, "ValidationError", ""},
		{"missing required", url.Values{"Action": {"Echo"}, "Version": {"2020-01-01"}}, "", 400, "ValidationError", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(tt.form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if tt.auth != "" {
				req.Header.Set("Authorization", tt.auth)
			}
			status, _, body := do(t, req)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d (body %s)", status, tt.wantStatus, body)
			}
			if tt.wantCode != "" {
				var er struct {
					Error struct{ Type, Code, Message string }
				}
				if err := xml.Unmarshal(body, &er); err != nil {
					t.Fatalf("decode %s: %v", body, err)
				}
				if er.Error.Code != tt.wantCode || er.Error.Type != "Sender" {
					t.Errorf("error = %+v, want code %s type Sender", er.Error, tt.wantCode)
				}
				return
			}
			if !strings.Contains(string(body), tt.wantInBody) {
				t.Errorf("body = %s, want it to contain %s", body, tt.wantInBody)
			}
		})
	}
}

func TestCBOR(t *testing.T) {
	srv := newTestServer(t)
	when := time.Unix(1700000000, 0)
	in, err := cbor.Marshal(map[string]any{"Name": "a", "Count": 3, "When": cbor.Tag{Number: 1, Content: float64(when.Unix())}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		path       string
		body       []byte
		wantStatus int
		wantType   string
	}{
		{"ok", "/service/Echo/operation/Echo", in, 200, ""},
		{"unknown op", "/service/Echo/operation/Nope", in, 400, CodeUnknownOperation},
		{"malformed", "/service/Echo/operation/Echo", []byte{0xff, 0x00}, 400, CodeSerialization},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, srv.URL+tt.path, strings.NewReader(string(tt.body)))
			req.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
			req.Header.Set("Content-Type", "application/cbor")
			status, _, body := do(t, req)
			if status != tt.wantStatus {
				t.Fatalf("status = %d, want %d", status, tt.wantStatus)
			}
			var got map[string]any
			if err := cbor.Unmarshal(body, &got); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if tt.wantType != "" {
				if got["__type"] != tt.wantType {
					t.Errorf("__type = %v, want %s", got["__type"], tt.wantType)
				}
				return
			}
			if got["Name"] != "a" || got["Count"] != uint64(3) {
				t.Errorf("output = %v, want Name a Count 3", got)
			}
			if ts, ok := got["When"].(time.Time); !ok || !ts.Equal(when) {
				t.Errorf("When = %#v, want tag-1 time %v", got["When"], when)
			}
		})
	}
}

func TestMountedHandler(t *testing.T) {
	srv := newTestServer(t)
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/v2/", nil)
	if status, _, body := do(t, req); status != 200 || string(body) != "registry" {
		t.Errorf("GET /v2/ = %d %q, want 200 registry", status, body)
	}
}

func TestDecodeQuery(t *testing.T) {
	type inner struct {
		Key   string
		Value string
	}
	type in struct {
		Name    string `query:"LoadBalancerName"`
		Port    int32
		Weight  *int32
		On      bool
		F       float64
		Names   []string
		Pairs   []inner
		Empty   []string
		Nested  *inner
		Dims    map[string]string
		Skipped string `query:"-"`
	}
	params := url.Values{
		"LoadBalancerName": {"web"}, "Port": {"80"}, "Weight": {"0"}, "On": {"true"}, "F": {"1.5"},
		"Names.member.1": {"a"}, "Names.member.2": {"b"}, "Names.member.4": {"gap ends the list"},
		"Pairs.member.1.Key": {"k"}, "Pairs.member.1.Value": {"v"},
		"Empty": {""}, "Nested.Key": {"nk"},
		"Dims.entry.1.key": {"a"}, "Dims.entry.1.value": {"1"},
		"Skipped": {"x"},
	}
	var got in
	if err := DecodeQuery(params, &got); err != nil {
		t.Fatal(err)
	}
	zero := int32(0)
	want := in{Name: "web", Port: 80, Weight: &zero, On: true, F: 1.5, Names: []string{"a", "b"}, Pairs: []inner{{"k", "v"}}, Empty: []string{}, Nested: &inner{Key: "nk"}, Dims: map[string]string{"a": "1"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DecodeQuery = %+v, want %+v", got, want)
	}
}

func TestValidationMessage(t *testing.T) {
	tests := []struct {
		vs   []Violation
		want string
	}{
		{[]Violation{Required("name")}, "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"},
		{[]Violation{Required("a"), {Field: "port", Value: 70000, Constraint: "Member must have value less than or equal to 65535"}},
			"2 validation errors detected: Value null at 'a' failed to satisfy constraint: Member must not be null; Value '70000' at 'port' failed to satisfy constraint: Member must have value less than or equal to 65535"},
	}
	for _, tt := range tests {
		if got := Validation("ValidationError", tt.vs...).Message; got != tt.want {
			t.Errorf("Validation(%v) = %q, want %q", tt.vs, got, tt.want)
		}
	}
}
