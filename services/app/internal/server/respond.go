package server

import (
	"encoding/json"

	"github.com/labstack/echo/v4"
)

var jsonContentType = []string{echo.MIMEApplicationJSON}

// writeJSON answers v as JSON with status code: the bytes echo.Context.JSON
// writes, without its per-request parse of the query string for ?pretty.
func writeJSON(c echo.Context, code int, v any) error {
	res := c.Response()
	res.Header()[echo.HeaderContentType] = jsonContentType
	res.WriteHeader(code)
	return json.NewEncoder(res).Encode(v)
}
