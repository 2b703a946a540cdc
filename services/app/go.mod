module github.com/shipyard-ecs/shipyard/services/app

go 1.27.3
