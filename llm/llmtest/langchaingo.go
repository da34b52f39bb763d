package llmtest

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"unicode"
)

// LangchaingoModule is the module path of langchaingo, whose testdata folders hold recorded provider
// traffic (*.httprr, *.httprr.gz).
const LangchaingoModule = "github.com/tmc/langchaingo"

var langchaingoDir = sync.OnceValues(findLangchaingoDir)

// LangchaingoDir returns the directory of the langchaingo module the current build uses, in the
// module cache, so tests can read its recorded traces in place (never copy them). It asks
// `go list -m -f {{.Dir}} github.com/tmc/langchaingo` (run in the current directory with
// GOPROXY=off, so it never downloads), and if that fails, derives the directory from the binary's
// build information and the module cache (GOMODCACHE, else GOPATH/pkg/mod). The answer is cached.
// It fails if the module is not a dependency or is not in the module cache.
func LangchaingoDir() (string, error) {
	return langchaingoDir()
}

// LangchaingoFile returns the absolute path of rel (slash-separated, such as
// "agents/testdata/TestOpenAIFunctionsAgentWithHTTPRR.httprr") inside LangchaingoDir, and stops the
// test with t.Fatal if the module or the file cannot be found.
func LangchaingoFile(t testing.TB, rel string) string {
	t.Helper()
	dir, err := LangchaingoDir()
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("llmtest: langchaingo file: %v", err)
	}
	return p
}

func findLangchaingoDir() (string, error) {
	dir, listErr := goListDir()
	if listErr == nil {
		return dir, nil
	}
	dir, infoErr := buildInfoDir()
	if infoErr == nil {
		return dir, nil
	}
	return "", fmt.Errorf("llmtest: cannot find the %s module: %w", LangchaingoModule, errors.Join(listErr, infoErr))
}

func goListDir() (string, error) {
	cmd := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", LangchaingoModule)
	cmd.Env = append(os.Environ(), "GOPROXY=off")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go list: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	dir := strings.TrimSpace(string(out))
	if dir == "" {
		return "", errors.New("go list: module not in the module cache")
	}
	return dir, nil
}

func buildInfoDir() (string, error) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "", errors.New("no build information")
	}
	for _, m := range info.Deps {
		if m.Path != LangchaingoModule {
			continue
		}
		if m.Replace != nil {
			m = m.Replace
			if m.Version == "" { // replaced by a local directory
				return checkDir(m.Path)
			}
		}
		cache, err := modCache()
		if err != nil {
			return "", err
		}
		esc, err := escapeModulePath(m.Path)
		if err != nil {
			return "", err
		}
		return checkDir(filepath.Join(cache, filepath.FromSlash(esc)+"@"+m.Version))
	}
	return "", errors.New("build information: not a dependency of this binary")
}

func checkDir(dir string) (string, error) {
	if fi, err := os.Stat(dir); err != nil {
		return "", err
	} else if !fi.IsDir() {
		return "", fmt.Errorf("%s is not a directory", dir)
	}
	return dir, nil
}

// modCache returns the module cache directory: GOMODCACHE, else the first GOPATH entry's pkg/mod,
// else $HOME/go/pkg/mod (the go command's defaults).
func modCache() (string, error) {
	if d := os.Getenv("GOMODCACHE"); d != "" {
		return d, nil
	}
	if p := os.Getenv("GOPATH"); p != "" {
		return filepath.Join(filepath.SplitList(p)[0], "pkg", "mod"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "go", "pkg", "mod"), nil
}

// escapeModulePath applies the module cache's case encoding: each upper-case letter becomes '!'
// followed by its lower-case form.
func escapeModulePath(p string) (string, error) {
	var b strings.Builder
	for _, r := range p {
		switch {
		case r == '!' || r > unicode.MaxASCII:
			return "", fmt.Errorf("unsupported module path %q", p)
		case 'A' <= r && r <= 'Z':
			b.WriteByte('!')
			b.WriteRune(unicode.ToLower(r))
		default:
			b.WriteRune(r)
		}
	}
	return b.String(), nil
}
