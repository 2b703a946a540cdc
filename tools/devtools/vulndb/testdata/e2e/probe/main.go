// Command probe calls strings.ToUpper, for govulncheck to find in a fixture
// database. It imports as little as possible: govulncheck's analysis time
// grows with the call graph.
package main

import "strings"

var sink string

func main() {
	sink = strings.ToUpper("probe")
}
