// Command pulumi-language-nodejs stands in, in the tests, for the Node.js language host that the
// pulumi CLI ships. The module proxy serves the host's source only up to v3.68.0 (2023), and that
// host takes a project's runtime options (Pulumi.yaml's runtime.options: typescript, nodeargs,
// tsconfig) from its command line alone, where today's engine sends them in each run request. Left
// alone it ran every program through the SDK's ts-node path, whatever Pulumi.yaml said. This
// reads the options from the project's Pulumi.yaml, as today's host does, and starts the 2023
// host beside it with them as flags.
package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"gopkg.in/yaml.v3"
)

// hostName is the 2023 host's file, in this command's directory (scripts/toolchain puts it there).
const hostName = "pulumi-language-nodejs-flags-only"

type project struct {
	Runtime yaml.Node `yaml:"runtime"`
}

// runtimeOptions are the options of Pulumi.yaml's runtime, which is a name or a mapping.
type runtimeOptions struct {
	Options struct {
		TypeScript *bool  `yaml:"typescript"`
		NodeArgs   string `yaml:"nodeargs"`
		TSConfig   string `yaml:"tsconfig"`
	} `yaml:"options"`
}

// projectFile is the Pulumi.yaml of the program in dir: there or in a directory above it, as
// `main` may name a subdirectory, which is where the engine starts the host.
func projectFile(dir string) (string, error) {
	for {
		for _, name := range []string{"Pulumi.yaml", "Pulumi.yml"} {
			path := filepath.Join(dir, name)
			if _, err := os.Stat(path); err == nil {
				return path, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no Pulumi.yaml in the working directory or above it")
		}
		dir = parent
	}
}

// hostFlags are the 2023 host's flags for the project's runtime options.
func hostFlags(file []byte) ([]string, error) {
	var p project
	if err := yaml.Unmarshal(file, &p); err != nil {
		return nil, fmt.Errorf("reading Pulumi.yaml: %w", err)
	}
	var runtime runtimeOptions
	if p.Runtime.Kind == yaml.MappingNode {
		if err := p.Runtime.Decode(&runtime); err != nil {
			return nil, fmt.Errorf("reading Pulumi.yaml's runtime options: %w", err)
		}
	}
	var flags []string
	if o := runtime.Options; o.TypeScript != nil {
		flags = append(flags, "-typescript="+strconv.FormatBool(*o.TypeScript))
	}
	if o := runtime.Options; o.NodeArgs != "" {
		flags = append(flags, "-nodeargs="+o.NodeArgs)
	}
	if o := runtime.Options; o.TSConfig != "" {
		flags = append(flags, "-tsconfig="+o.TSConfig)
	}
	return flags, nil
}

func run() error {
	self, err := os.Executable()
	if err != nil {
		return err
	}
	dir, err := os.Getwd()
	if err != nil {
		return err
	}
	path, err := projectFile(dir)
	if err != nil {
		return err
	}
	file, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	flags, err := hostFlags(file)
	if err != nil {
		return err
	}
	host := filepath.Join(filepath.Dir(self), hostName)
	// The engine's own arguments (its address last) follow the flags, which the host parses first.
	return syscall.Exec(host, append(append([]string{host}, flags...), os.Args[1:]...), os.Environ())
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs (the tests' stand-in): %v\n", err)
		os.Exit(1)
	}
}
