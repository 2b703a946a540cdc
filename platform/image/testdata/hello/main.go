// Command hello prints the version and commit stamped into it.
package main

import "fmt"

var version, commit string

func main() { fmt.Println(version, commit) }
