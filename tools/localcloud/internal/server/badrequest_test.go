package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// TestBadRequests sends what no SDK would: malformed bodies, members of the
// wrong type, missing required members, unknown operations. Each gets AWS's
// error in its protocol's shape, and nothing is created.
func TestBadRequests(t *testing.T) {
	t.Parallel()
	_, endpoint, _ := start(t, t.TempDir())
	type req struct {
		path, target string
		ctype        string
		body         []byte
	}
	query := func(v url.Values) req {
		return req{"/", "", "application/x-www-form-urlencoded", []byte(v.Encode())}
	}
	jsonReq := func(target, version, s string) req {
		return req{"/", target, "application/x-amz-json-" + version, []byte(s)}
	}
	cborRaw := func(op string, b []byte) req {
		return req{"/service/GraniteServiceVersion20100801/operation/" + op, "", "application/cbor", b}
	}
	cborReq := func(op string, v any) req {
		b, err := cbor.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return cborRaw(op, b)
	}
	tests := []struct {
		name       string
		req        req
		wantStatus int
		wantCode   string
	}{
		{"elbv2 port not a number", (query(url.Values{"Action": {"CreateTargetGroup"}, "Version": {"2015-12-01"}, "Name": {"tg"}, "Protocol": {"HTTP"}, "Port": {"eighty"}, "VpcId": {"vpc-1"}})), 400, "ValidationError"},
		{"elbv2 missing name", (query(url.Values{"Action": {"CreateLoadBalancer"}, "Version": {"2015-12-01"}, "Subnets.member.1": {"a"}, "Subnets.member.2": {"b"}})), 400, "ValidationError"},
		{"elbv2 unknown action", (query(url.Values{"Action": {"LaunchRockets"}, "Version": {"2015-12-01"}})), 400, "InvalidAction"},
		{"sts unknown action", (query(url.Values{"Action": {"AssumeRole"}, "Version": {"2011-06-15"}})), 400, "InvalidAction"},
		{"logs malformed JSON", jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{"logGroupName":`), 400, "SerializationException"},
		{"logs wrong type", jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{"logGroupName":5}`), 400, "SerializationException"},
		{"logs missing member", jsonReq("Logs_20140328.CreateLogGroup", "1.1", `{}`), 400, "InvalidParameterException"},
		{"logs unknown operation", jsonReq("Logs_20140328.LaunchRockets", "1.1", `{}`), 400, "UnknownOperationException"},
		{"cloudwatch JSON wrong type", jsonReq("GraniteServiceVersion20100801.PutMetricAlarm", "1.0", `{"AlarmName":"a","EvaluationPeriods":"one"}`), 400, "SerializationException"},
		{"cloudwatch CBOR malformed", cborRaw("PutMetricAlarm", []byte{0xbf, 0x61}), 400, "SerializationException"},
		{"cloudwatch CBOR missing member", cborReq("PutMetricAlarm", map[string]any{"AlarmName": "a"}), 400, "MissingRequiredParameterException"},
		{"cloudwatch CBOR unknown operation", cborReq("LaunchRockets", map[string]any{}), 400, "UnknownOperationException"},
		{"cloudwatch query wrong type", (query(url.Values{"Action": {"PutMetricAlarm"}, "Version": {"2010-08-01"}, "AlarmName": {"a"}, "EvaluationPeriods": {"one"}})), 400, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint+tt.req.path, bytes.NewReader(tt.req.body))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", tt.req.ctype)
			if tt.req.target != "" {
				r.Header.Set("X-Amz-Target", tt.req.target)
			}
			if tt.req.ctype == "application/cbor" {
				r.Header.Set("Smithy-Protocol", "rpc-v2-cbor")
			}
			resp, err := http.DefaultClient.Do(r)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			var code string
			switch resp.Header.Get("Content-Type") {
			case "text/xml":
				var e struct {
					Error struct{ Code string }
				}
				_ = xml.Unmarshal(body, &e)
				code = e.Error.Code
			case "application/cbor":
				var e map[string]any
				_ = cbor.Unmarshal(body, &e)
				code, _ = e["__type"].(string)
			default:
				var e map[string]any
				_ = json.Unmarshal(body, &e)
				code, _ = e["__type"].(string)
			}
			if code != tt.wantCode {
				t.Errorf("error code = %q, want %q (%s)", code, tt.wantCode, body)
			}
		})
	}
	// Nothing was created by any of them.
	for _, probe := range []struct {
		target, body, empty string
	}{
		{"Logs_20140328.DescribeLogGroups", `{}`, `"logGroups":[]`},
		{"GraniteServiceVersion20100801.DescribeAlarms", `{}`, `"MetricAlarms":[]`},
	} {
		r, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint+"/", bytes.NewReader([]byte(probe.body)))
		r.Header.Set("X-Amz-Target", probe.target)
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if !bytes.Contains(body, []byte(probe.empty)) {
			t.Errorf("%s after bad requests = %s, want %s", probe.target, body, probe.empty)
		}
	}
	r, _ := http.NewRequestWithContext(context.Background(), http.MethodPost, endpoint+"/", bytes.NewReader([]byte(url.Values{"Action": {"DescribeTargetGroups"}, "Version": {"2015-12-01"}}.Encode())))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(body, []byte("<TargetGroups></TargetGroups>")) {
		t.Errorf("DescribeTargetGroups after bad requests = %s, want none", body)
	}
}
