module github.com/shipyard-ecs/shipyard/tools/localcloud

go 1.27.3
