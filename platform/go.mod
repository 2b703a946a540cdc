module github.com/shipyard-ecs/shipyard/platform

go 1.27.3

require github.com/goccy/go-yaml v1.19.2
