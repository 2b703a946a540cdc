package lambda

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/shipyard-ecs/shipyard/tools/localcloud/internal/awsproto"
)

// Lambda error codes (X-Amzn-ErrorType) and the statuses they answer with.
const (
	CodeResourceNotFound   = "ResourceNotFoundException"
	CodeResourceConflict   = "ResourceConflictException"
	CodeInvalidParameter   = "InvalidParameterValueException"
	CodeValidation         = "ValidationException"
	CodePreconditionFailed = "PreconditionFailedException"
	CodeInvalidContent     = "InvalidRequestContentException"
	CodeRequestTooLarge    = "RequestTooLargeException"
	CodeService            = "ServiceException"
	CodeUnknownOperation   = "UnknownOperationException"
)

var codeStatus = map[string]int{
	CodeResourceNotFound:   http.StatusNotFound,
	CodeResourceConflict:   http.StatusConflict,
	CodePreconditionFailed: http.StatusPreconditionFailed,
	CodeRequestTooLarge:    http.StatusRequestEntityTooLarge,
	CodeService:            http.StatusInternalServerError,
	CodeUnknownOperation:   http.StatusNotFound,
}

func apiError(code, format string, a ...any) *awsproto.Error {
	return &awsproto.Error{Code: code, Message: fmt.Sprintf(format, a...), Status: codeStatus[code]}
}

func notFound(arn string) *awsproto.Error {
	return apiError(CodeResourceNotFound, "Function not found: %s", arn)
}

func invalid(format string, a ...any) *awsproto.Error {
	return apiError(CodeInvalidParameter, format, a...)
}

// Register mounts the Lambda REST API on the mux.
func (b *Backend) Register(m *awsproto.Mux) {
	m.Handle("/2015-03-31/functions", http.HandlerFunc(b.serveHTTP))
	m.Handle("/_localcloud/lambda/", http.HandlerFunc(b.serveCode))
}

// serveCode serves a function's zip at the Code.Location GetFunction
// reports: /_localcloud/lambda/<name>/code.zip.
func (b *Backend) serveCode(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/_localcloud/lambda/"), "/code.zip")
	if !ok || r.Method != http.MethodGet {
		http.NotFound(w, r)
		return
	}
	b.mu.Lock()
	f, err := b.resolveLocked(name)
	var zipPath string
	if err == nil {
		zipPath = f.Zip
	}
	b.mu.Unlock()
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/zip")
	http.ServeFile(w, r, zipPath)
}

// serveHTTP routes /2015-03-31/functions[/{name}[/sub[/x]]].
func (b *Backend) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/2015-03-31/functions")
	rest = strings.Trim(rest, "/")
	var parts []string
	if rest != "" {
		for _, p := range strings.Split(rest, "/") {
			u, err := pathUnescape(p)
			if err != nil {
				writeError(w, invalid("Invalid path segment %q", p))
				return
			}
			parts = append(parts, u)
		}
	}
	var h func(context.Context, *http.Request, []string) (int, any, error)
	switch {
	case len(parts) == 0 && r.Method == http.MethodPost:
		h = b.createFunction
	case len(parts) == 0 && r.Method == http.MethodGet:
		h = b.listFunctions
	case len(parts) == 1 && r.Method == http.MethodGet:
		h = b.getFunction
	case len(parts) == 1 && r.Method == http.MethodDelete:
		h = b.deleteFunction
	case len(parts) == 2 && parts[1] == "configuration" && r.Method == http.MethodGet:
		h = b.getFunctionConfiguration
	case len(parts) == 2 && parts[1] == "configuration" && r.Method == http.MethodPut:
		h = b.updateFunctionConfiguration
	case len(parts) == 2 && parts[1] == "code" && r.Method == http.MethodPut:
		h = b.updateFunctionCode
	case len(parts) == 2 && parts[1] == "invocations" && r.Method == http.MethodPost:
		b.serveInvoke(w, r, parts[0])
		return
	case len(parts) == 2 && parts[1] == "policy" && r.Method == http.MethodPost:
		h = b.addPermission
	case len(parts) == 2 && parts[1] == "policy" && r.Method == http.MethodGet:
		h = b.getPolicy
	case len(parts) == 3 && parts[1] == "policy" && r.Method == http.MethodDelete:
		h = b.removePermission
	default:
		writeError(w, apiError(CodeUnknownOperation, "Unknown operation %s %s", r.Method, r.URL.Path))
		return
	}
	status, out, err := h(r.Context(), r, parts)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("X-Amzn-RequestId", newUUID())
	if out == nil {
		w.WriteHeader(status)
		return
	}
	body, err := json.Marshal(out)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

func pathUnescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+3], "%02x", &c); err != nil {
				return "", err
			}
			b.WriteByte(c)
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String(), nil
}

// writeError renders an error as Lambda's REST JSON does: the code in
// X-Amzn-ErrorType, {"Type","message"} in the body.
func writeError(w http.ResponseWriter, err error) {
	var e *awsproto.Error
	if !errors.As(err, &e) {
		e = apiError(CodeService, "%v", err)
	}
	typ := "User"
	if e.HTTPStatus() >= 500 {
		typ = "Service"
	}
	body, _ := json.Marshal(map[string]string{"Type": typ, "message": e.Message})
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.Header().Set("X-Amzn-RequestId", newUUID())
	w.WriteHeader(e.HTTPStatus())
	_, _ = w.Write(body)
}

func decodeBody(r *http.Request, v any) error {
	b, err := io.ReadAll(io.LimitReader(r.Body, 70<<20))
	if err != nil {
		return apiError(CodeInvalidContent, "Could not read request body: %v", err)
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		b = []byte("{}")
	}
	if err := json.Unmarshal(b, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return apiError(CodeInvalidContent, "Could not parse request body into json: Unexpected value for member %s", te.Field)
		}
		return apiError(CodeInvalidContent, "Could not parse request body into json: %v", err)
	}
	return nil
}

// member is a request member the API requires, and whether the request
// set it.
type member struct {
	name string
	set  bool
}

// required answers the first member the request left out, in the order
// given, with the framework's "must not be null" validation error.
func required(members ...member) error {
	for _, m := range members {
		if !m.set {
			return awsproto.Validation(CodeValidation, awsproto.Required(m.name))
		}
	}
	return nil
}

var (
	nameRE = regexp.MustCompile(`^(arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\d{1}:)?(\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\$LATEST|[a-zA-Z0-9-_]+))?$`)
	roleRE = regexp.MustCompile(`^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role/?[a-zA-Z_0-9+=,.@\-_/]+$`)
	sidRE  = regexp.MustCompile(`^([a-zA-Z0-9-_.]+)$`)
)

// validHandler refuses handlers with whitespace (AWS's pattern is [^\s]+)
// and, since go1.x runs the handler as a path in the code, ones that leave it.
func validHandler(h string) error {
	if strings.ContainsAny(h, " \t\r\n") || len(h) > 128 {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "handler", Value: h, Constraint: "Member must satisfy regular expression pattern: [^\\s]+"})
	}
	if c := filepath.Clean(filepath.FromSlash(h)); filepath.IsAbs(c) || c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
		return invalid("The handler %s must name a file inside the deployment package.", h)
	}
	return nil
}

// runtimes localcloud can run: custom runtimes, and go1.x handler binaries.
var runtimes = map[string]bool{"provided.al2023": true, "provided.al2": true, "provided": true, "go1.x": true}

type code struct {
	ZipFile         []byte
	S3Bucket        string
	S3Key           string
	S3ObjectVersion string
	ImageUri        string
}

type createInput struct {
	FunctionName  string
	Runtime       string
	Role          string
	Handler       string
	Code          *code
	Description   string
	Timeout       *int32
	MemorySize    *int32
	Publish       bool
	Environment   *Environment
	PackageType   string
	Architectures []string
	Tags          map[string]string
}

func validateConfig(timeout, memory *int32, role *string) error {
	if timeout != nil && (*timeout < 1 || *timeout > 900) {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "timeout", Value: *timeout, Constraint: "Member must have value less than or equal to 900"})
	}
	if memory != nil && (*memory < 128 || *memory > 10240) {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "memorySize", Value: *memory, Constraint: "Member must have value greater than or equal to 128"})
	}
	if role != nil && !roleRE.MatchString(*role) {
		return awsproto.Validation(CodeValidation, awsproto.Violation{Field: "role", Value: *role, Constraint: "Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+"})
	}
	return nil
}

// codeError answers a storeCode error as Lambda does: code that is not a
// zip is the caller's mistake, anything else the service's.
func codeError(err error) error {
	if errors.Is(err, errBadZip) {
		return invalid(badZipMessage)
	}
	return err
}

// codeBytes reads the zip from the request or from S3.
func (b *Backend) codeBytes(ctx context.Context, c *code) ([]byte, error) {
	switch {
	case c == nil:
		return nil, invalid("Please provide a source for function code.")
	case c.ImageUri != "":
		return nil, invalid("localcloud runs zip functions only; ImageUri is not supported.")
	case len(c.ZipFile) > 0:
		return c.ZipFile, nil
	case c.S3Bucket != "" && c.S3Key != "":
		b.mu.Lock()
		s3 := b.s3
		b.mu.Unlock()
		if s3 == nil {
			return nil, invalid("Error occurred while GetObject. S3 Error Code: NoSuchBucket. S3 Error Message: The specified bucket does not exist (no S3 service in this localcloud)")
		}
		data, err := s3.GetObject(ctx, c.S3Bucket, c.S3Key)
		if err != nil {
			return nil, invalid("Error occurred while GetObject. S3 Error Code: NoSuchKey. S3 Error Message: %v", err)
		}
		return data, nil
	}
	return nil, invalid("Please provide a source for function code.")
}

func (b *Backend) createFunction(ctx context.Context, r *http.Request, _ []string) (int, any, error) {
	var in createInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if err := required(member{"functionName", in.FunctionName != ""}, member{"role", in.Role != ""}, member{"code", in.Code != nil}); err != nil {
		return 0, nil, err
	}
	if !nameRE.MatchString(in.FunctionName) || strings.Contains(in.FunctionName, ":") || len(in.FunctionName) > 64 {
		return 0, nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "functionName", Value: in.FunctionName, Constraint: "Member must satisfy regular expression pattern: (arn:(aws[a-zA-Z-]*)?:lambda:)?([a-z]{2}(-gov)?-[a-z]+-\\d{1}:)?(\\d{12}:)?(function:)?([a-zA-Z0-9-_]+)(:(\\$LATEST|[a-zA-Z0-9-_]+))?"})
	}
	if err := validateConfig(in.Timeout, in.MemorySize, &in.Role); err != nil {
		return 0, nil, err
	}
	if in.PackageType != "" && in.PackageType != "Zip" {
		return 0, nil, invalid("localcloud runs zip functions only; PackageType %s is not supported.", in.PackageType)
	}
	if in.Runtime == "" {
		return 0, nil, invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if !runtimes[in.Runtime] {
		return 0, nil, invalid("The runtime parameter of %s is not supported by localcloud: use provided.al2023, provided.al2 or go1.x (a bootstrap or handler binary).", in.Runtime)
	}
	if in.Runtime == "go1.x" && in.Handler == "" {
		return 0, nil, invalid("Runtime and Handler are mandatory parameters for functions created with deployment packages.")
	}
	if err := validHandler(in.Handler); err != nil {
		return 0, nil, err
	}
	b.mu.Lock()
	_, exists := b.functions[in.FunctionName]
	b.mu.Unlock()
	if exists {
		return 0, nil, apiError(CodeResourceConflict, "Function already exist: %s", in.FunctionName)
	}
	archive, err := b.codeBytes(ctx, in.Code)
	if err != nil {
		return 0, nil, err
	}
	zipPath, codeDir, size, sha, err := storeCode(b.functionDir(in.FunctionName), archive)
	if err != nil {
		return 0, nil, codeError(err)
	}
	f := &function{CodeDir: codeDir, Zip: zipPath, Tags: in.Tags}
	c := &f.Config
	c.FunctionName, c.FunctionArn, c.Runtime, c.Role, c.Handler = in.FunctionName, functionARN(in.FunctionName), in.Runtime, in.Role, in.Handler
	c.Description, c.Timeout, c.MemorySize = in.Description, 3, 128
	setIf(&c.Timeout, in.Timeout)
	setIf(&c.MemorySize, in.MemorySize)
	if in.Environment != nil && len(in.Environment.Variables) > 0 {
		c.Environment = in.Environment
	}
	c.CodeSize, c.CodeSha256, c.Version = size, sha, "$LATEST"
	c.TracingConfig.Mode, c.State, c.LastUpdateStatus, c.PackageType = "PassThrough", "Active", "Successful", "Zip"
	c.Architectures = in.Architectures
	if len(c.Architectures) == 0 {
		c.Architectures = []string{"x86_64"}
	}
	c.EphemeralStorage.Size = 512
	c.LoggingConfig.LogFormat, c.LoggingConfig.LogGroup = "Text", f.logGroup()
	b.touch(f)
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, exists := b.functions[in.FunctionName]; exists {
		os.RemoveAll(codeDir)
		os.Remove(zipPath)
		return 0, nil, apiError(CodeResourceConflict, "Function already exist: %s", in.FunctionName)
	}
	b.functions[in.FunctionName] = f
	b.saveLocked()
	b.log.Info("function created", "function", in.FunctionName, "runtime", in.Runtime)
	return http.StatusCreated, f.Config, nil
}

// touch stamps a change: LastModified and a new RevisionId.
func (b *Backend) touch(f *function) {
	f.Config.LastModified = b.clock.Now().UTC().Format(lastModifiedLayout)
	f.Config.RevisionId = newUUID()
}

func (b *Backend) function(parts []string) (*function, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.resolveLocked(parts[0])
}

func (b *Backend) getFunction(_ context.Context, r *http.Request, parts []string) (int, any, error) {
	f, err := b.function(parts)
	if err != nil {
		return 0, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	location := b.endpoint + "/_localcloud/lambda/" + f.Config.FunctionName + "/code.zip"
	out := map[string]any{
		"Configuration": f.Config,
		"Code":          map[string]string{"RepositoryType": "S3", "Location": location},
	}
	if len(f.Tags) > 0 {
		out["Tags"] = f.Tags
	}
	return http.StatusOK, out, nil
}

func (b *Backend) getFunctionConfiguration(_ context.Context, _ *http.Request, parts []string) (int, any, error) {
	f, err := b.function(parts)
	if err != nil {
		return 0, nil, err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return http.StatusOK, f.Config, nil
}

func (b *Backend) listFunctions(context.Context, *http.Request, []string) (int, any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := []FunctionConfiguration{}
	for _, f := range b.functions {
		out = append(out, f.Config)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FunctionName < out[j].FunctionName })
	return http.StatusOK, map[string]any{"Functions": out}, nil
}

// stopInstanceLocked retires a function's instance, so the next invoke runs
// the new code or configuration.
func (f *function) stopInstanceLocked(why string) {
	if f.inst != nil {
		go f.inst.kill(why)
		f.inst = nil
	}
}

func (b *Backend) deleteFunction(_ context.Context, _ *http.Request, parts []string) (int, any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.resolveLocked(parts[0])
	if err != nil {
		return 0, nil, err
	}
	f.stopInstanceLocked("function deleted")
	delete(b.functions, f.Config.FunctionName)
	b.saveLocked()
	dir := b.functionDir(f.Config.FunctionName)
	if err := os.RemoveAll(dir); err != nil {
		b.log.Warn("remove function code", "function", f.Config.FunctionName, "err", err)
	}
	b.log.Info("function deleted", "function", f.Config.FunctionName)
	return http.StatusNoContent, nil, nil
}

type updateCodeInput struct {
	ZipFile         []byte
	S3Bucket        string
	S3Key           string
	S3ObjectVersion string
	ImageUri        string
	RevisionId      string
	Publish         bool
	DryRun          bool
}

func (b *Backend) updateFunctionCode(ctx context.Context, r *http.Request, parts []string) (int, any, error) {
	var in updateCodeInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	f, err := b.function(parts)
	if err != nil {
		return 0, nil, err
	}
	archive, err := b.codeBytes(ctx, &code{ZipFile: in.ZipFile, S3Bucket: in.S3Bucket, S3Key: in.S3Key, ImageUri: in.ImageUri})
	if err != nil {
		return 0, nil, err
	}
	if in.DryRun {
		return http.StatusOK, f.Config, nil
	}
	zipPath, codeDir, size, sha, err := storeCode(b.functionDir(f.Config.FunctionName), archive)
	if err != nil {
		return 0, nil, codeError(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if in.RevisionId != "" && in.RevisionId != f.Config.RevisionId {
		os.RemoveAll(codeDir)
		os.Remove(zipPath)
		return 0, nil, apiError(CodePreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	oldDir, oldZip := f.CodeDir, f.Zip
	f.CodeDir, f.Zip = codeDir, zipPath
	f.Config.CodeSize, f.Config.CodeSha256 = size, sha
	b.touch(f)
	f.stopInstanceLocked("code updated")
	b.saveLocked()
	// The old instance may still run from the old directory; it is killed
	// above and removed once gone.
	go func() {
		os.RemoveAll(oldDir)
		os.Remove(oldZip)
	}()
	b.log.Info("function code updated", "function", f.Config.FunctionName)
	return http.StatusOK, f.Config, nil
}

type updateConfigInput struct {
	Role        *string
	Handler     *string
	Description *string
	Timeout     *int32
	MemorySize  *int32
	Environment *Environment
	Runtime     *string
	RevisionId  string
}

// setIf applies a member the request set (non-nil) to the configuration,
// leaving the current value where the request left it out.
func setIf[T any](dst, v *T) {
	if v != nil {
		*dst = *v
	}
}

func (b *Backend) updateFunctionConfiguration(_ context.Context, r *http.Request, parts []string) (int, any, error) {
	var in updateConfigInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if err := validateConfig(in.Timeout, in.MemorySize, in.Role); err != nil {
		return 0, nil, err
	}
	if in.Handler != nil {
		if err := validHandler(*in.Handler); err != nil {
			return 0, nil, err
		}
	}
	if in.Runtime != nil && !runtimes[*in.Runtime] {
		return 0, nil, invalid("The runtime parameter of %s is not supported by localcloud: use provided.al2023, provided.al2 or go1.x (a bootstrap or handler binary).", *in.Runtime)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.resolveLocked(parts[0])
	if err != nil {
		return 0, nil, err
	}
	if in.RevisionId != "" && in.RevisionId != f.Config.RevisionId {
		return 0, nil, apiError(CodePreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id")
	}
	c := &f.Config
	setIf(&c.Role, in.Role)
	setIf(&c.Handler, in.Handler)
	setIf(&c.Description, in.Description)
	setIf(&c.Timeout, in.Timeout)
	setIf(&c.MemorySize, in.MemorySize)
	setIf(&c.Runtime, in.Runtime)
	if in.Environment != nil {
		c.Environment = in.Environment
		if len(in.Environment.Variables) == 0 {
			c.Environment = nil
		}
	}
	b.touch(f)
	f.stopInstanceLocked("configuration updated")
	b.saveLocked()
	b.log.Info("function configuration updated", "function", c.FunctionName)
	return http.StatusOK, f.Config, nil
}

type addPermissionInput struct {
	StatementId      string
	Action           string
	Principal        string
	SourceArn        string
	SourceAccount    string
	EventSourceToken string
	RevisionId       string
	PrincipalOrgID   string
}

func (b *Backend) addPermission(_ context.Context, r *http.Request, parts []string) (int, any, error) {
	var in addPermissionInput
	if err := decodeBody(r, &in); err != nil {
		return 0, nil, err
	}
	if err := required(member{"statementId", in.StatementId != ""}, member{"action", in.Action != ""}, member{"principal", in.Principal != ""}); err != nil {
		return 0, nil, err
	}
	if !sidRE.MatchString(in.StatementId) || len(in.StatementId) > 100 {
		return 0, nil, awsproto.Validation(CodeValidation, awsproto.Violation{Field: "statementId", Value: in.StatementId, Constraint: "Member must satisfy regular expression pattern: ([a-zA-Z0-9-_.]+)"})
	}
	if !strings.HasPrefix(in.Action, "lambda:") {
		return 0, nil, invalid("The action must be a Lambda action such as lambda:InvokeFunction.")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.resolveLocked(parts[0])
	if err != nil {
		return 0, nil, err
	}
	if in.RevisionId != "" && in.RevisionId != f.Config.RevisionId {
		return 0, nil, apiError(CodePreconditionFailed, "The Revision Id provided does not match the latest Revision Id. Call the GetPolicy API to retrieve the latest Revision Id")
	}
	for _, s := range f.Policy {
		if s.Sid == in.StatementId {
			return 0, nil, apiError(CodeResourceConflict, "The statement id (%s) provided already exists. Please choose another statement id.", in.StatementId)
		}
	}
	s := statement{Sid: in.StatementId, Effect: "Allow", Action: in.Action, Resource: f.Config.FunctionArn}
	switch {
	case strings.HasSuffix(in.Principal, ".amazonaws.com"):
		s.Principal = map[string]string{"Service": in.Principal}
	case regexp.MustCompile(`^\d{12}$`).MatchString(in.Principal):
		s.Principal = map[string]string{"AWS": "arn:aws:iam::" + in.Principal + ":root"}
	default:
		s.Principal = map[string]string{"AWS": in.Principal}
	}
	if in.SourceArn != "" || in.SourceAccount != "" {
		s.Condition = map[string]map[string]string{}
		if in.SourceArn != "" {
			s.Condition["ArnLike"] = map[string]string{"AWS:SourceArn": in.SourceArn}
		}
		if in.SourceAccount != "" {
			s.Condition["StringEquals"] = map[string]string{"AWS:SourceAccount": in.SourceAccount}
		}
	}
	f.Policy = append(f.Policy, s)
	f.Config.RevisionId = newUUID()
	b.saveLocked()
	raw, _ := json.Marshal(s)
	return http.StatusCreated, map[string]string{"Statement": string(raw)}, nil
}

func (b *Backend) getPolicy(_ context.Context, _ *http.Request, parts []string) (int, any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.resolveLocked(parts[0])
	if err != nil {
		return 0, nil, err
	}
	if len(f.Policy) == 0 {
		return 0, nil, apiError(CodeResourceNotFound, "The resource you requested does not exist.")
	}
	doc := map[string]any{"Version": "2012-10-17", "Id": "default", "Statement": f.Policy}
	raw, _ := json.Marshal(doc)
	return http.StatusOK, map[string]string{"Policy": string(raw), "RevisionId": f.Config.RevisionId}, nil
}

func (b *Backend) removePermission(_ context.Context, _ *http.Request, parts []string) (int, any, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f, err := b.resolveLocked(parts[0])
	if err != nil {
		return 0, nil, err
	}
	sid := parts[2]
	for i, s := range f.Policy {
		if s.Sid == sid {
			f.Policy = append(f.Policy[:i:i], f.Policy[i+1:]...)
			f.Config.RevisionId = newUUID()
			b.saveLocked()
			return http.StatusNoContent, nil, nil
		}
	}
	return 0, nil, apiError(CodeResourceNotFound, "Statement %s is not found in resource policy.", sid)
}

// serveInvoke answers Invoke: RequestResponse (200, the response or the
// function error with X-Amz-Function-Error), Event (202) or DryRun (204).
func (b *Backend) serveInvoke(w http.ResponseWriter, r *http.Request, ref string) {
	if q := r.URL.Query().Get("Qualifier"); q != "" && q != "$LATEST" {
		writeError(w, notFound(functionARN(ref)+":"+q))
		return
	}
	payload, err := io.ReadAll(io.LimitReader(r.Body, 6<<20+1))
	if err != nil {
		writeError(w, apiError(CodeInvalidContent, "Could not read request body: %v", err))
		return
	}
	if len(payload) > 6<<20 {
		writeError(w, apiError(CodeRequestTooLarge, "Request must be smaller than 6291456 bytes for the InvokeFunction operation"))
		return
	}
	if len(strings.TrimSpace(string(payload))) > 0 && !json.Valid(payload) {
		writeError(w, apiError(CodeInvalidContent, "Could not parse request body into json: Could not parse payload into json"))
		return
	}
	b.mu.Lock()
	_, err = b.resolveLocked(ref)
	b.mu.Unlock()
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("X-Amzn-RequestId", newUUID())
	switch typ := r.Header.Get("X-Amz-Invocation-Type"); typ {
	case "", "RequestResponse":
	case "Event":
		b.invokeAsync(ref, payload)
		w.WriteHeader(http.StatusAccepted)
		return
	case "DryRun":
		w.WriteHeader(http.StatusNoContent)
		return
	default:
		writeError(w, invalid("Unsupported invocation type %s", typ))
		return
	}
	res, _, err := b.invoke(r.Context(), ref, payload)
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Amz-Executed-Version", "$LATEST")
	if r.Header.Get("X-Amz-Log-Type") == "Tail" {
		w.Header().Set("X-Amz-Log-Result", base64.StdEncoding.EncodeToString(res.logTail))
	}
	if res.fnError {
		w.Header().Set("X-Amz-Function-Error", "Unhandled")
	}
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(res.payload)
}
