package taskrun

import (
	"encoding/json"
	"net/http"
	"strings"
)

// serveMetadata answers the v4 endpoints under /v4/<taskID>: the root (the
// container), /task, /stats and /task/stats.
func (r *Runner) serveMetadata(w http.ResponseWriter, req *http.Request) {
	rest, ok := strings.CutPrefix(req.URL.Path, "/v4/")
	if !ok {
		http.NotFound(w, req)
		return
	}
	taskID, sub, _ := strings.Cut(rest, "/")
	p, ok := r.Process(taskID)
	if !ok || p.Spec.Metadata == nil {
		http.Error(w, `{"error":"task not found"}`, http.StatusNotFound)
		return
	}
	var doc any
	switch strings.TrimSuffix(sub, "/") {
	case "":
		doc = p.Spec.Metadata.Container()
	case "task":
		doc = p.Spec.Metadata.Task()
	case "stats":
		doc = p.Spec.Metadata.Stats()
	case "task/stats":
		doc = map[string]any{taskID: p.Spec.Metadata.Stats()}
	default:
		http.NotFound(w, req)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(doc)
}
