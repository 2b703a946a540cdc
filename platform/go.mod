module github.com/shipyard-ecs/shipyard/platform

go 1.27.3
