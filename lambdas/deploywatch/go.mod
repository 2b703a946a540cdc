module github.com/shipyard-ecs/shipyard/lambdas/deploywatch

go 1.27.3
