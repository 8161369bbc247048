//go:build mage
// +build mage

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/magefile/mage/mg"
	"github.com/magefile/mage/sh"

	// mage:import
	build "github.com/grafana/grafana-plugin-sdk-go/build"

	"github.com/modellens/mlmonitoring-datasource/pkg/packaging"
	"github.com/modellens/mlmonitoring-datasource/pkg/pluginid"
)

// pluginID is plugin.json's id; the archive's root directory carries this name.
const pluginID = pluginid.ID

// distDir is where the frontend build and the SDK's backend build write the plugin.
const distDir = "dist"

func init() {
	// plugin.json lives at the repository root, not in src/.
	build.SetBeforeBuildCallback(func(cfg build.Config) (build.Config, error) {
		cfg.PluginJSONPath = "."
		return cfg, nil
	})
}

// Default builds the backend for every supported platform.
var Default = build.BuildAll

// Package builds the backend for all six platforms (linux amd64/arm64/arm, darwin amd64/arm64,
// windows amd64), runs the frontend build when dist/ has none, and writes
// modellens-mlmonitoring-datasource-<version>.zip (version from package.json) with a single
// modellens-mlmonitoring-datasource/ directory, then checks the archive. Every backend build embeds
// its build time, so a signed release builds, signs, then runs Zip (which does not rebuild).
func Package() error {
	if err := frontend(); err != nil {
		return err
	}
	mg.Deps(build.BuildAll)
	return writeArchive("")
}

// PackageLinux is Package for linux/amd64 only (what CI runs: the six platforms take about 15
// minutes on two cores). It writes modellens-mlmonitoring-datasource-<version>.linux_amd64.zip.
func PackageLinux() error {
	if err := frontend(); err != nil {
		return err
	}
	mg.Deps(build.Build{}.Linux)
	return writeArchive(packaging.RequiredPlatform)
}

// Zip packages dist/ as it is, without building anything: every executable it holds, and its
// MANIFEST.txt when signed (checked against the files). The signing order is build, `npm run
// sign`, then Zip.
func Zip() error {
	return writeArchive("")
}

// ZipLinux is Zip keeping only the linux/amd64 executable (a dist/ signed with other platforms'
// executables cannot be zipped this way: its manifest lists them).
func ZipLinux() error {
	return writeArchive(packaging.RequiredPlatform)
}

// frontend runs `npm run build` unless dist/ already holds a built frontend.
func frontend() error {
	if _, err := os.Stat(filepath.Join(distDir, "module.js")); err == nil {
		return nil
	}
	fmt.Println("dist/module.js not found: running npm run build")
	return sh.RunV("npm", "run", "build")
}

// writeArchive packages dist/ and checks the result. A non-empty platform names a single-platform
// archive (<id>-<version>.<platform>.zip) holding only that platform's executable.
func writeArchive(platform string) error {
	version, err := packageVersion()
	if err != nil {
		return err
	}
	name := fmt.Sprintf("%s-%s.zip", pluginID, version)
	if platform != "" {
		name = fmt.Sprintf("%s-%s.%s.zip", pluginID, version, platform)
	}
	var platforms []string
	if platform != "" {
		platforms = []string{platform}
	}
	if err := packaging.PackagePlatforms(distDir, name, pluginID, platforms); err != nil {
		return err
	}
	a, err := packaging.CheckArchive(name, pluginID)
	if err != nil {
		return err
	}
	if a.Plugin.Info.Version != version {
		return fmt.Errorf("dist/plugin.json has version %s but package.json says %s: rebuild the frontend", a.Plugin.Info.Version, version)
	}
	if platform != "" {
		want := packaging.ExecutableName(a.Plugin.Executable, platform)
		if len(a.Executables) != 1 || a.Executables[0] != want {
			return fmt.Errorf("%s should hold only %s but holds %v", name, want, a.Executables)
		}
	}
	sum, err := packaging.SHA1(name)
	if err != nil {
		return err
	}
	signed := "unsigned"
	if a.Signature != nil {
		signed = a.Signature.SignatureType + " signature matching every file"
	}
	fmt.Printf("wrote %s: %d files, executables %v, %s, sha1 %s\n", name, len(a.Files), a.Executables, signed, sum)
	return nil
}

// packageVersion is package.json's version, the plugin's version.
func packageVersion() (string, error) {
	b, err := os.ReadFile("package.json")
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("package.json: %w", err)
	}
	if pkg.Version == "" {
		return "", fmt.Errorf("package.json has no version")
	}
	return pkg.Version, nil
}
