package ecr

import "github.com/shipyard-ecs/shipyard/tools/localcloud/internal/state"

// fileStore is the real state store in a test directory.
type fileStore struct{ dir string }

func (f *fileStore) Load(name string, v any) (bool, error) {
	return state.Store{Dir: f.dir}.Load(name, v)
}
func (f *fileStore) Save(name string, v any) error { return state.Store{Dir: f.dir}.Save(name, v) }
