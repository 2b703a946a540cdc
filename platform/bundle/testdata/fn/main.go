// Command fn stands in for a Lambda function in platform/bundle's tests:
// a main package with the version stamps the build sets.
package main

import "fmt"

var version, commit = "dev", "unknown"

func main() { fmt.Println(version, commit) }
