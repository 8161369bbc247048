// Package pluginid holds the plugin's id, defined once for the Go side: the SDK registration
// (pkg/plugin), the data source type of the provisioned dashboards and rules (pkg/dashboards) and
// the archive's root directory (Magefile.go). plugin.json (repository root) carries the same id; a test checks it.
package pluginid

// ID is plugin.json's id.
const ID = "modellens-mlmonitoring-datasource"
