package server

import (
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/shipyard-ecs/shipyard/services/app/internal/fault"
)

const healthPath = "/health"

// healthBody is the JSON of /health.
type healthBody struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
	Commit  string `json:"commit,omitempty"`
	Uptime  string `json:"uptime,omitempty"`
	Fault   string `json:"fault,omitempty"`
}

// health answers the ALB and ECS health checks. It calls nothing
// downstream: a dependency's outage must not make every task look dead.
func (s *Server) health(c echo.Context) error {
	if s.draining.Load() {
		return writeJSON(c, http.StatusServiceUnavailable, healthBody{Status: "draining"})
	}
	if s.fault.Kind == fault.Health {
		return writeJSON(c, http.StatusServiceUnavailable, healthBody{Status: "unhealthy", Fault: s.fault.String()})
	}
	return writeJSON(c, http.StatusOK, healthBody{
		Status:  "ok",
		Version: s.version,
		Commit:  s.commit,
		Uptime:  s.now().Sub(s.started).Round(time.Second).String(),
	})
}

// infoBody is the JSON of GET /: enough for a person to tell blue from green.
type infoBody struct {
	Service   string    `json:"service"`
	Version   string    `json:"version"`
	Commit    string    `json:"commit"`
	StartedAt time.Time `json:"started_at"`
	Uptime    string    `json:"uptime"`
	Fault     string    `json:"fault,omitempty"`
	ECS       *ecsBody  `json:"ecs,omitempty"`
}

type ecsBody struct {
	TaskARN          string `json:"task_arn,omitempty"`
	AvailabilityZone string `json:"availability_zone,omitempty"`
	Family           string `json:"family,omitempty"`
	Revision         string `json:"revision,omitempty"`
	Error            string `json:"error,omitempty"`
}

// info describes this instance. The ECS task metadata comes from the
// client's cache; a failed fetch is shown, not fatal.
func (s *Server) info(c echo.Context) error {
	body := infoBody{
		Service:   ServiceName,
		Version:   s.version,
		Commit:    s.commit,
		StartedAt: s.started.UTC(),
		Uptime:    s.now().Sub(s.started).Round(time.Second).String(),
		Fault:     s.fault.String(),
	}
	if s.tasks != nil {
		t, err := s.tasks.Task(c.Request().Context())
		if err != nil {
			// The cause names internal addresses; it is logged at start.
			body.ECS = &ecsBody{Error: "task metadata unavailable for now; it is fetched again on a later request"}
		} else {
			body.ECS = &ecsBody{TaskARN: t.TaskARN, AvailabilityZone: t.AvailabilityZone, Family: t.Family, Revision: t.Revision}
		}
	}
	return writeJSON(c, http.StatusOK, body)
}

const maxNameLen = 64

type greetingBody struct {
	Greeting string `json:"greeting"`
	Version  string `json:"version"`
}

// greeting is the sample API endpoint: GET /api/greeting?name=Ada.
func (s *Server) greeting(c echo.Context) error {
	name, err := validName(c.QueryParam("name"))
	if err != nil {
		return err
	}
	return writeJSON(c, http.StatusOK, greetingBody{Greeting: "Hello, " + name + "!", Version: s.version})
}

// validName trims name and checks it is 1 to 64 letters, spaces, hyphens,
// apostrophes or dots.
func validName(name string) (string, error) {
	invalid := func(format string, args ...any) error {
		return &Error{Status: http.StatusBadRequest, Code: CodeInvalidArgument, Field: "name", Message: fmt.Sprintf(format, args...)}
	}
	name = strings.TrimSpace(name)
	switch n := utf8.RuneCountInString(name); {
	case n == 0:
		return "", invalid("query parameter name is required; try /api/greeting?name=Ada")
	case n > maxNameLen:
		return "", invalid("name is %d characters long; shorten it to at most %d", n, maxNameLen)
	case !utf8.ValidString(name):
		return "", invalid("name is not valid UTF-8")
	}
	for _, r := range name {
		if !unicode.IsLetter(r) && !strings.ContainsRune(" -'.", r) {
			return "", invalid("name may contain only letters, spaces, hyphens, apostrophes and dots; remove %q", r)
		}
	}
	return name, nil
}
