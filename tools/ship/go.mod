module github.com/shipyard-ecs/shipyard/tools/ship

go 1.27.3
