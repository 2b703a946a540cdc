module github.com/shipyard-ecs/shipyard/tools/loadgen

go 1.27.3
