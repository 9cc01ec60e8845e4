package e2e

import (
	"os"
	"testing"

	"github.com/sesame-auth/sesame/e2e/rig"
)

func TestMain(m *testing.M) {
	code := m.Run()
	rig.RemoveSesameBuild()
	os.Exit(code)
}
