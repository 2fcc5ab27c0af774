package cli

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

var consoleRE = regexp.MustCompile(`Console:     (http://127\.0\.0\.1:\d+)/\n`)

// TestServerConsole: `cairn server` prints the console's URL beside the
// endpoint, and that URL serves the page and signs in with the printed
// keys; --console-address "" turns it off.
func TestServerConsole(t *testing.T) {
	vars := map[string]string{EnvData: t.TempDir(), EnvRootAccessKey: "CONSOLEROOT", EnvRootSecretKey: "consolerootsecret"}
	banner, stop := startServer(t, vars)
	m := consoleRE.FindStringSubmatch(banner)
	if m == nil {
		stop()
		t.Fatalf("no console URL in the banner:\n%s", banner)
	}
	resp, err := http.Get(m[1] + "/")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "<html") {
		t.Errorf("console page: %d %.100s", resp.StatusCode, page)
	}
	resp, err = http.Post(m[1]+"/api/session", "application/json",
		strings.NewReader(`{"accessKey":"CONSOLEROOT","secretKey":"consolerootsecret"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"user":"root"`) {
		t.Errorf("sign-in with the printed keys: %d %s", resp.StatusCode, body)
	}
	stop()

	banner, stop = startServer(t, map[string]string{EnvData: t.TempDir()}, "--console-address", "")
	stop()
	if strings.Contains(banner, "Console:") {
		t.Errorf("console off, yet the banner shows it:\n%s", banner)
	}
	// The variable is read (startServer's flag would override it).
	fails(t, map[string]string{EnvData: t.TempDir(), EnvConsoleAddress: "nonsense"}, "console address", "server", "--address", "127.0.0.1:0")
	fails(t, map[string]string{EnvData: t.TempDir()}, "--console-session-lifetime", "server", "--address", "127.0.0.1:0",
		"--console-address", "127.0.0.1:0", "--console-session-lifetime", "soon")
	fails(t, map[string]string{EnvData: t.TempDir()}, "console address", "server", "--address", "127.0.0.1:0",
		"--console-address", "nonsense")
}
